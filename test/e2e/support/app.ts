// The objects of one demo application as a user writes them: Services, an Ingress the LBC turns into an
// internet-facing ALB with IP targets, and a Rollout whose pods run on the kwok Node. Scenarios write their
// Rollout's strategy block themselves, so each test shows the YAML it exercises.
import { KWOK_NODE } from './stack.js';

export function services(names: string[], app: string, port = 80): string {
  return names
    .map(
      (name) => `
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${app}}
  ports: [{name: http, port: ${port}, targetPort: 8080}]
---`,
    )
    .join('\n');
}

/** An Ingress whose `/` backend is `actionService` with port name use-annotation (what Argo's docs ask for). */
export function ingress(name: string, actionService: string, extraPaths = '', annotations: Record<string, string> = {}): string {
  const extra = Object.entries(annotations).map(([k, v]) => `\n    ${k}: ${JSON.stringify(v)}`).join('');
  return `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  annotations:
    alb.ingress.kubernetes.io/scheme: internet-facing
    alb.ingress.kubernetes.io/target-type: ip${extra}
spec:
  ingressClassName: alb
  rules:
  - http:
      paths:${extraPaths}
      - path: /
        pathType: Prefix
        backend: {service: {name: ${actionService}, port: {name: use-annotation}}}
---`;
}

/** A Rollout of `app` with `replicas` pods pinned to the kwok Node; `strategy` is the YAML under spec.strategy. */
export function rollout(name: string, app: string, strategy: string, opts: { replicas?: number; image?: string } = {}): string {
  return `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: ${name}}
spec:
  replicas: ${opts.replicas ?? 2}
  revisionHistoryLimit: 2
  selector: {matchLabels: {app: ${app}}}
  template:
    metadata: {labels: {app: ${app}}}
    spec:
      nodeName: ${KWOK_NODE}
      containers:
      - name: app
        image: ${opts.image ?? 'registry.example.com/demo:1.0.0'}
        ports: [{containerPort: 8080}]
  strategy:
${strategy.replace(/^\n/, '').split('\n').map((l) => `    ${l}`).join('\n')}
---`;
}
