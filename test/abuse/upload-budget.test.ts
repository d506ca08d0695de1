import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import request from 'supertest';
import { startService, type TestService } from '../support/service.ts';

let svc: TestService;
before(async () => {
  svc = await startService({ worker: false, env: { BYTES_IN_FLIGHT_MAX: '1000' } });
});
after(async () => svc.stop());

test('resumable uploads draw on the bytes-in-flight budget: one over it is refused with 503 and leaves nothing on disk', async () => {
  const ok = await request(svc.intake.app).post('/uploads').set('Tus-Resumable', '1.0.0').set('Upload-Length', '600').expect(201);
  await request(svc.intake.app).post('/uploads').set('Tus-Resumable', '1.0.0').set('Upload-Length', '600').expect(503);
  assert.equal(readdirSync(svc.config.PARTIALS_DIR).length, 1);
  // Giving up the first upload gives its share back.
  await request(svc.intake.app).delete(ok.headers.location!).set('Tus-Resumable', '1.0.0').expect(204);
  await request(svc.intake.app).post('/uploads').set('Tus-Resumable', '1.0.0').set('Upload-Length', '600').expect(201);
});

test('a tip whose declared size is over the bytes-in-flight budget gets 503 before anything is read', async () => {
  const res = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').attach('files', Buffer.alloc(2000, 1), 'big.bin').expect(503);
  assert.equal(res.body.error.code, 'busy_upload');
  assert.deepEqual(readdirSync(svc.config.SCRATCH_DIR), []);
});
