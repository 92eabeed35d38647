// TargetGroupBinding reads through the sidecar's Kubernetes client (src/k8s/kube-api.ts). The apiVersion is a setting
// (`elbv2.k8s.aws/v1beta1`, or `eks.amazonaws.com/v1` on EKS Auto Mode); the fields read are the same. An
// API the cluster does not serve is a configuration error naming the setting, never "no such binding".

import { ApiException, kubeRequest, type KubeAccess } from '../../k8s/kube-api.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, timeoutOptions } from '../../k8s/ingress-client.js';
import { isResourceTypeMissing, TargetGroupBindingApiMissingError } from '../../verify/k8s-targets.js';
import type { BindingReader, TargetGroupBinding } from './bindings.js';

const PLURAL = 'targetgroupbindings';
const LIST_PAGE = 500;

export function createBindingReader(kc: KubeAccess, apiVersion = 'elbv2.k8s.aws/v1beta1'): BindingReader {
  const [group, version] = apiVersion.split('/');
  if (!group || !version) {
    throw new Error(`TargetGroupBinding apiVersion "${apiVersion}" must be <group>/<version>, e.g. elbv2.k8s.aws/v1beta1`);
  }
  const timeout = timeoutOptions(DEFAULT_REQUEST_TIMEOUT_MS);
  const base = (namespace: string) => `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}`;
  return {
    async getTargetGroupBinding(namespace, name) {
      try {
        const obj: unknown = await kubeRequest(kc, { path: `${base(namespace)}/${encodeURIComponent(name)}`, ...timeout });
        return toBinding(obj, namespace);
      } catch (err) {
        if (isResourceTypeMissing(err, name)) throw new TargetGroupBindingApiMissingError(apiVersion);
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw new Error(`reading TargetGroupBinding ${namespace}/${name} (${apiVersion}): ${describe(err)}`, { cause: err });
      }
    },
    async listTargetGroupBindings(namespace) {
      const out: TargetGroupBinding[] = [];
      let token: string | undefined;
      do {
        let page: unknown;
        try {
          page = await kubeRequest(kc, { path: base(namespace), query: { limit: LIST_PAGE, continue: token }, ...timeout });
        } catch (err) {
          if (err instanceof ApiException && err.code === 404) throw new TargetGroupBindingApiMissingError(apiVersion);
          throw new Error(`listing TargetGroupBindings in ${namespace} (${apiVersion}): ${describe(err)}`, { cause: err });
        }
        const list = page as { items?: unknown[]; metadata?: { continue?: string } };
        for (const item of list.items ?? []) {
          const b = toBinding(item, namespace);
          if (b) out.push(b);
        }
        token = list.metadata?.continue || undefined;
      } while (token);
      return out;
    },
  };
}

/** The fields we use from a TargetGroupBinding object; undefined for anything that is not one. */
export function toBinding(obj: unknown, namespace: string): TargetGroupBinding | undefined {
  const o = obj as {
    metadata?: { name?: unknown; namespace?: unknown };
    spec?: { targetGroupARN?: unknown; targetGroupName?: unknown; serviceRef?: { name?: unknown } };
  } | null;
  const name = o?.metadata?.name;
  const serviceName = o?.spec?.serviceRef?.name;
  if (typeof name !== 'string' || typeof serviceName !== 'string') return undefined;
  const binding: TargetGroupBinding = {
    name,
    namespace: typeof o?.metadata?.namespace === 'string' ? o.metadata.namespace : namespace,
    serviceName,
  };
  if (typeof o?.spec?.targetGroupARN === 'string' && o.spec.targetGroupARN) binding.targetGroupArn = o.spec.targetGroupARN;
  if (typeof o?.spec?.targetGroupName === 'string' && o.spec.targetGroupName) binding.targetGroupName = o.spec.targetGroupName;
  return binding;
}

function describe(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: unknown } | undefined;
    return `HTTP ${err.code}${typeof body?.message === 'string' ? `: ${body.message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
