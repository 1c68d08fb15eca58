// The Kubernetes permissions the manager needs, declared beside the code that uses them;
// hack/generate.ts turns them into config/rbac/*.yaml (the kubebuilder markers' equivalent).
import { GROUP, PLURAL } from '../api/v1alpha1/groupversion.ts';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Cluster-wide: the scalers (watch, status, finalizer) and the events about them. No Secrets. */
export const managerClusterRules: PolicyRule[] = [
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
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
