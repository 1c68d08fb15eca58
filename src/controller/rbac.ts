// The Kubernetes permissions the manager needs, declared beside the code that uses them;
// hack/generate.ts turns them into config/rbac/*.yaml (the kubebuilder markers' equivalent).
import { GROUP, PLURAL } from '../api/v1alpha1/groupversion.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** A rule on non-resource URLs (paths the API server or a component serves). */
export interface NonResourcePolicyRule {
  nonResourceURLs: string[];
  verbs: string[];
}

/**
 * Cluster-wide: the scalers (watch, status, finalizer) and the events about them; token and
 * access reviews to authorize /metrics readers (--metrics-secure). No Secrets.
 */
export const managerClusterRules: PolicyRule[] = [
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

/** Reading the manager's /metrics; bound by the cluster admin to Prometheus's ServiceAccount. */
export const metricsReaderRules: NonResourcePolicyRule[] = [
  { nonResourceURLs: ['/metrics'], verbs: ['get'] },
];

/** In the manager's own namespace only: the leader-election Lease. */
export const leaderElectionRules: PolicyRule[] = [
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/**
 * Reading a scaler's `spec.credentials.secretRef`. Bound per namespace with a RoleBinding by the
 * cluster admin, only where scalers use Secrets: the manager never gets cluster-wide Secret access.
 */
export const secretReaderRules: PolicyRule[] = [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }];
