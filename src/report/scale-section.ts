// The operator-at-scale measurements appear in two generated files: bench/SCALE.md, written by
// `npm run bench:scale` (50 minutes of real processes), and bench/REPORT.md, written by
// `npm run bench` (virtual time), which issue 8 wants to carry them "in the same report". Neither
// command runs the other, so both copy SCALE.md's body into REPORT.md between two markers: bench
// when it renders the report, bench:scale when it has measured. test/bench/reports.test.ts fails
// when the committed copies differ.

const BEGIN = '<!-- operator-at-scale: copied from SCALE.md by npm run bench and npm run bench:scale -->';
const END = '<!-- /operator-at-scale -->';

/** The lines of REPORT.md's copy of SCALE.md (markers included); a placeholder without SCALE.md. */
export function scaleSection(scaleMd: string | undefined): string[] {
  const body =
    scaleMd === undefined
      ? ['Not measured yet: `npm run bench:scale` writes [SCALE.md](SCALE.md) and copies it here.']
      : [
          'Copied from [SCALE.md](SCALE.md) (`npm run bench:scale`: real processes in real time, not virtual time).',
          '',
          ...scaleMd
            .replace(/^# .*\n+/, '')
            .trimEnd()
            .split('\n')
            // The raw measurements SCALE.md records for --render stay there.
            .filter((line) => !line.startsWith('<!-- measurements')),
        ];
  return [BEGIN, ...body, END];
}

/** REPORT.md with its copy of SCALE.md replaced; throws if the report has no markers. */
export function embedScale(reportMd: string, scaleMd: string): string {
  const begin = reportMd.indexOf(BEGIN);
  const end = reportMd.indexOf(END);
  if (begin < 0 || end < begin) throw new Error('REPORT.md has no operator-at-scale section to update');
  return reportMd.slice(0, begin) + scaleSection(scaleMd).join('\n') + reportMd.slice(end + END.length);
}

/** REPORT.md's copy of SCALE.md, as scaleSection() wrote it, or undefined. */
export function embeddedScale(reportMd: string): string | undefined {
  const begin = reportMd.indexOf(BEGIN);
  const end = reportMd.indexOf(END);
  return begin < 0 || end < begin ? undefined : reportMd.slice(begin, end + END.length);
}
