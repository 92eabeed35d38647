// The listener-rule IAM policy grants exactly the writes this mode sends (plus AddTags, which ELBv2
// checks for tags given to CreateRule), so a new write without a policy change fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');

describe('deploy/iam-policy-listener-rule.json', () => {
  it('grants the write commands src/modes/listener-rule sends, and nothing else', () => {
    const policy = JSON.parse(readFileSync(join(root, 'deploy/iam-policy-listener-rule.json'), 'utf8')) as {
      Statement: Array<{ Action: string | string[] }>;
    };
    const granted = new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));

    const dir = join(root, 'src/modes/listener-rule');
    const sent = new Set<string>(['elasticloadbalancing:AddTags']);
    for (const file of readdirSync(dir)) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/new (\w+)Command\(/g)) sent.add(`elasticloadbalancing:${m[1]}`);
    }
    expect([...granted].sort()).toEqual([...sent].sort());
    expect([...sent].sort()).toEqual([
      'elasticloadbalancing:AddTags',
      'elasticloadbalancing:CreateRule',
      'elasticloadbalancing:DeleteRule',
      'elasticloadbalancing:ModifyListener',
      'elasticloadbalancing:ModifyRule',
    ]);
  });
});
