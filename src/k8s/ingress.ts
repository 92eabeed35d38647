// networking.k8s.io/v1 Ingress in its JSON shape: only what the plugin reads or writes is typed; the rest is
// carried along untouched.

export interface ServiceBackendPort {
  name?: string;
  number?: number;
}

export interface IngressBackend {
  service?: { name: string; port?: ServiceBackendPort };
  resource?: { apiGroup?: string; kind: string; name: string };
}

export interface HTTPIngressPath {
  path?: string;
  /** Exact, Prefix or ImplementationSpecific; copied verbatim into header-route paths. */
  pathType?: string;
  backend: IngressBackend;
}

export interface IngressRule {
  host?: string;
  http?: { paths: HTTPIngressPath[] } | null;
}

export interface Ingress {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: {
    ingressClassName?: string;
    defaultBackend?: IngressBackend;
    rules?: IngressRule[];
    tls?: unknown[];
    [key: string]: unknown;
  };
  status?: {
    loadBalancer?: { ingress?: Array<{ hostname?: string; ip?: string }> };
    [key: string]: unknown;
  };
}

/**
 * What the plugin changes on one Ingress: annotation values to set (`null` deletes the key) and, for header
 * routes, the complete new `spec.rules` list. Keys not listed are left as they are.
 */
export interface IngressEdit {
  annotations: Record<string, string | null>;
  rules?: IngressRule[];
}

/** Applies an edit to a copy of the Ingress (what the API server will hold after the patch). */
export function applyIngressEdit(ingress: Ingress, edit: IngressEdit): Ingress {
  const annotations: Record<string, string> = { ...(ingress.metadata.annotations ?? {}) };
  for (const [key, value] of Object.entries(edit.annotations)) {
    if (value === null) delete annotations[key];
    else annotations[key] = value;
  }
  const out: Ingress = { ...ingress, metadata: { ...ingress.metadata, annotations } };
  if (edit.rules) out.spec = { ...(ingress.spec ?? {}), rules: structuredClone(edit.rules) };
  return out;
}

export function isEmptyEdit(edit: IngressEdit): boolean {
  return Object.keys(edit.annotations).length === 0 && edit.rules === undefined;
}
