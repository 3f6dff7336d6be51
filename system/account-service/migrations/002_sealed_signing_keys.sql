-- Private keys are stored sealed (AES-256-GCM under KEY_ENCRYPTION_KEY); the clear JWK column is emptied by the
-- service at start-up, once it has sealed each key, and stays only for keys written before this migration.
ALTER TABLE signing_keys ALTER COLUMN private_jwk DROP NOT NULL;
ALTER TABLE signing_keys ADD COLUMN sealed_private_key text;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_private_key_present
  CHECK (private_jwk IS NOT NULL OR sealed_private_key IS NOT NULL);
