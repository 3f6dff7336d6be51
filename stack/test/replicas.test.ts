import assert from 'node:assert/strict';
import { haproxyConfig, MAX_REPLICAS, replicaPort } from '../src/load-balancer.ts';
import { parseReplicas, ReplicasError } from '../src/replicas.ts';

describe('replicas', () => {
  it('reads --replicas as replicas per service, and refuses what it cannot mean', () => {
    assert.deepEqual(parseReplicas('ticket=3,payment=2'), { 'ticket-service': 3, 'payment-service': 2 });
    assert.deepEqual(parseReplicas(undefined), {});
    for (const bad of ['ticket=0', 'ticket=9', 'ticket=two', 'provider=2', 'ticket'])
      assert.throws(() => parseReplicas(bad), ReplicasError, bad);
  });

  it('balances each replicated service on its own port over every replica slot, checked by readiness', () => {
    const cfg = haproxyConfig([{ name: 'ticket-service', publicPort: 8080 }]);
    assert.match(cfg, /bind 127\.0\.0\.1:8080\n/);
    assert.match(cfg, /option httpchk GET \/actuator\/health\/readiness/);
    // Long enough for a waiting fan's server-sent events.
    assert.match(cfg, /timeout server 1h/);
    for (let i = 0; i < MAX_REPLICAS; i++) assert.ok(cfg.includes(`127.0.0.1:${replicaPort(8080, i)} check`));
    assert.equal(replicaPort(8080, 0), 18080);
    // Services' ports are neighbours (8080, 8081, 8082): their replicas' ports must not collide.
    const ports = [8080, 8081, 8082].flatMap((p) =>
      Array.from({ length: MAX_REPLICAS }, (_, i) => replicaPort(p, i)),
    );
    assert.equal(new Set(ports).size, ports.length);
  });
});
