package dev.reliablestore.cluster;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.cluster.crypto.KeyMismatchException;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code Configuration/KeyCheck}: the id of every key a store has been opened to write with, each with
 * a proof of its material, so a factory given a wrong passphrase or key store is refused when it opens
 * instead of writing values that the store's other nodes cannot read.
 *
 * <p>The proof is an AES-GCM tag over no plaintext (a random nonce, the key id as associated data): it
 * confirms a key without revealing anything about it. Not {@code AES(key, 0)}, the usual key check
 * value: under GCM that block is the hash key, and publishing it would let anyone forge tags.
 *
 * <p>A key ring is accepted when every key whose id is recorded matches its proof and, once any key is
 * recorded, at least one of the ring's ids is: a new key comes in together with one the store knows (a
 * rotation), never alone. Only active keys are recorded (a key store may hold other entries), and
 * the key a store without the record was found to be written with. A store without the record (new,
 * or written before it existed) accepts the first ring it is opened with, unless it holds an
 * encrypted value under a key id the ring lacks, or values under that id none of which the ring's key
 * opens (a key store entry with the right alias and another key).
 */
final class KeyChecks {

    private static final byte FORMAT = 1;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final byte[] LABEL = "ReliableStore key check\0".getBytes(StandardCharsets.UTF_8);
    private static final int ATTEMPTS = 8;
    /** Keys the record holds at most: about 90 bytes each, well within every backend's value limit. */
    static final int MAX_KEYS = 4096;
    /** Values of a type looked at for a key id when there is no record yet (a type may hold values in clear). */
    private static final int IDS_LOOKED_AT = 16;

    private KeyChecks() {
    }

    /**
     * Checks {@code keys} against the record of the store at {@code layout} and records the active key
     * when it is not recorded yet.
     *
     * @throws KeyMismatchException when a key does not match its recorded proof, no key of the ring is
     *                              recorded, or (no record yet) the store holds a value under a key id the ring lacks,
     *                              or the ring's key under that id opens none of the values looked at
     * @throws UnfinishedRestoreException a restore began meanwhile
     */
    static void enforce(RegistryGateway gateway, StorageLayout layout, KeyRing keys, String registryUri) {
        RegistryPath cfg = layout.configuration();
        String where = layout.root() + " in " + registryUri;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            if (attempt >= 2) {
                // as in the layout's initialisation: a condition sees a write before reads do
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(100, 1L << (attempt - 2))));
            }
            ReadBatchResult r = gateway.read("key check of " + layout.root(), ReadBatch.of(
                    new ReadBatch.ValueRead(cfg, StorageLayout.KEY_CHECK_VALUE), new ReadBatch.ValueRead(cfg, StorageLayout.RESTORE_IN_PROGRESS_VALUE)));
            Optional<VersionedValue> stored = r.value(0);
            if (r.value(1).isPresent()) {
                throw new UnfinishedRestoreException(where, RestoreMarker.of(r.value(1).get().value()));
            }
            Map<String, byte[]> proofs = stored.isEmpty() ? new LinkedHashMap<>() : decode(stored.get().value(), cfg);
            boolean known = false;
            for (String id : keys.keyIds()) {
                byte[] proof = proofs.get(id);
                if (proof == null) {
                    continue;
                }
                if (!matches(id, keys.key(id), proof)) {
                    throw new KeyMismatchException("key \"" + id + "\" is not the key the store under " + where
                            + " was written with under that id (" + cfg + "/" + StorageLayout.KEY_CHECK_VALUE + " holds another key's proof):"
                            + " a wrong passphrase, key store or key; nothing was written");
                }
                known = true;
            }
            if (!known && !proofs.isEmpty()) {
                throw new KeyMismatchException("none of the keys given (active \"" + keys.activeKeyId() + "\", all " + keys.keyIds()
                        + ") is one the store under " + where + " was written with (" + proofs.keySet()
                        + "): a wrong passphrase, key store or key? A new key is accepted only together with one the store knows"
                        + " (previousPassphrases, or the old key's entry in the key store); nothing was written");
            }
            if (proofs.containsKey(keys.activeKeyId())) {
                return;
            }
            String evidence = null;
            if (proofs.isEmpty()) {
                Evidence found = anEncryptedValuesKey(gateway, layout, keys);
                if (found != null && !keys.keyIds().contains(found.keyId())) {
                    throw new KeyMismatchException("the store under " + where + " holds values encrypted under key \"" + found.keyId()
                            + "\", which is not among the keys given (active \"" + keys.activeKeyId() + "\", all " + keys.keyIds()
                            + "): a wrong passphrase, key store or key? Give that key too (previousPassphrases, or its entry in the"
                            + " key store); nothing was written");
                }
                if (found != null && found.opened() == null) {
                    throw new KeyMismatchException("key \"" + found.keyId() + "\" does not open the values the store under " + where
                            + " holds under that id (" + found.tried() + " tried, in " + found.types() + "): a key store entry with the right alias"
                            + " and another key, or a wrong passphrase? If the right key fails too, those values are damaged (run verify);"
                            + " nothing was written");
                }
                evidence = found == null ? null : found.keyId();
            }
            proofs.put(keys.activeKeyId(), proof(keys.activeKeyId(), keys.key(keys.activeKeyId())));
            if (evidence != null && !proofs.containsKey(evidence)) {
                // the key the store's values are under: a node that still has only it (a rotation rolling out) opens too
                proofs.put(evidence, proof(evidence, keys.key(evidence)));
            }
            WriteBatch.Builder b = WriteBatch.builder().requireValueAbsent(cfg, StorageLayout.RESTORE_IN_PROGRESS_VALUE);
            if (stored.isEmpty()) {
                b.requireValueAbsent(cfg, StorageLayout.KEY_CHECK_VALUE);
            } else {
                b.requireRevision(cfg, StorageLayout.KEY_CHECK_VALUE, stored.get().revision());
            }
            b.setValue(cfg, StorageLayout.KEY_CHECK_VALUE, RegistryValue.binary(encode(proofs)));
            try {
                gateway.commit(RegistryGateway.Commit.durable("key check record of " + layout.root(), b.build()).ungated());
                return;
            } catch (ConditionFailedException raced) {
                // another node recorded its key, or a restore began: read again
            }
        }
        throw new StoreUnavailableException(cfg + "/" + StorageLayout.KEY_CHECK_VALUE + " in " + registryUri + " kept changing while"
                + " this factory recorded its key (" + ATTEMPTS + " attempts)");
    }

    /**
     * What the first encrypted values of a store without the record say about the ring: the key id
     * of the first one found, and whether the ring's key under that id opened one of them.
     *
     * @param keyId  the key id of the first encrypted value found
     * @param opened where a value under {@code keyId} opened with the ring's key, or null when none did
     *               (or the ring lacks that id: nothing was tried)
     * @param tried  how many values under {@code keyId} the ring's key was tried on
     * @param types  the types looked at
     */
    private record Evidence(String keyId, String opened, int tried, List<String> types) {
    }

    /**
     * Looks at the types whose descriptor marks them encrypted (by name), the first {@value #IDS_LOOKED_AT}
     * ids of each: the key id of the first encrypted value found, then whether the ring's key under
     * that id opens one of the values under it — so an entry of the right alias holding another key is
     * refused, while one damaged value does not hide a right key. Null when no encrypted value is found.
     * For a store written before the record existed: read until the record is written. A descriptor or
     * value that cannot be read is passed over (verify reports it).
     */
    private static Evidence anEncryptedValuesKey(RegistryGateway gateway, StorageLayout layout, KeyRing keys) {
        EnvelopeCodec codec = new EnvelopeCodec(layout.root().toString(), false, null, keys);
        String keyId = null;
        int tried = 0;
        List<String> looked = new ArrayList<>();
        for (String type : ClusterStoreAdmin.types(gateway, layout)) {
            try {
                if (!TypeDescriptor.storedEncrypted(gateway, layout, type)) {
                    continue; // e.g. encryption switched on for a store written in clear: nothing to tell, nothing to read
                }
            } catch (DataIntegrityException damaged) {
                continue;
            }
            // the version records name the ids (eight bytes each), so no value is read in bulk
            Map<String, VersionedValue> versions = gateway.read("read of " + type + " version records",
                    ReadBatch.of(new ReadBatch.ValuesRead(layout.versions(type)))).values(0).orElse(Map.of());
            List<String> ids = versions.keySet().stream().sorted().limit(IDS_LOOKED_AT).toList();
            List<ReadBatch.Read> reads = ids.stream().<ReadBatch.Read>map(id -> new ReadBatch.ValueRead(layout.type(type), id)).toList();
            if (reads.isEmpty()) {
                continue;
            }
            looked.add(type);
            ReadBatchResult values = gateway.read("read of " + ids.size() + " " + type + " values", ReadBatch.of(reads));
            for (int i = 0; i < ids.size(); i++) {
                Optional<VersionedValue> v = values.value(i);
                if (v.isEmpty() || v.get().value().type() != ValueType.BINARY) {
                    continue;
                }
                byte[] e = v.get().value().data();
                EnvelopeCodec.Header h;
                try {
                    h = EnvelopeCodec.header(e, type + "/" + ids.get(i));
                } catch (DataIntegrityException damaged) {
                    continue; // not evidence either way
                }
                if (!h.encrypted()) {
                    continue;
                }
                if (keyId == null) {
                    keyId = h.keyId();
                    if (keys.key(keyId) == null) {
                        return new Evidence(keyId, null, 0, looked);
                    }
                }
                if (!h.keyId().equals(keyId)) {
                    continue;
                }
                tried++;
                if (codec.opensWithRingKey(type, ids.get(i), e, h)) {
                    return new Evidence(keyId, type + "/" + ids.get(i), tried, looked);
                }
            }
        }
        return keyId == null ? null : new Evidence(keyId, null, tried, looked);
    }

    /** A proof of {@code key} under {@code id}: a fresh nonce and the GCM tag of no plaintext. */
    static byte[] proof(String id, SecretKey key) {
        byte[] nonce = new byte[NONCE_BYTES];
        new SecureRandom().nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(aad(id));
            byte[] tag = c.doFinal();
            return ByteBuffer.allocate(NONCE_BYTES + tag.length).put(nonce).put(tag).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available: " + e.getClass().getSimpleName(), null);
        }
    }

    static boolean matches(String id, SecretKey key, byte[] proof) {
        if (proof.length != NONCE_BYTES + TAG_BITS / 8) {
            return false;
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, proof, 0, NONCE_BYTES));
            c.updateAAD(aad(id));
            c.doFinal(proof, NONCE_BYTES, proof.length - NONCE_BYTES);
            return true;
        } catch (AEADBadTagException wrongKey) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available: " + e.getClass().getSimpleName(), null);
        }
    }

    private static byte[] aad(String id) {
        byte[] name = id.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(LABEL.length + name.length).put(LABEL).put(name).array();
    }

    /** format 1 | count (2) | per key: id length (1), id (UTF-8), proof (28) */
    static byte[] encode(Map<String, byte[]> proofs) {
        if (proofs.size() > MAX_KEYS) {
            throw new KeyMismatchException("the store has recorded " + proofs.size() + " keys; its key check record holds at most "
                    + MAX_KEYS + " (retire old keys with reencrypt() instead of adding more)");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(FORMAT);
        out.write(proofs.size() >>> 8);
        out.write(proofs.size());
        proofs.forEach((id, proof) -> {
            byte[] name = id.getBytes(StandardCharsets.UTF_8);
            out.write(name.length);
            out.write(name, 0, name.length);
            out.write(proof, 0, proof.length);
        });
        return out.toByteArray();
    }

    static Map<String, byte[]> decode(RegistryValue value, RegistryPath where) {
        String what = where + "/" + StorageLayout.KEY_CHECK_VALUE;
        if (value.type() != ValueType.BINARY) {
            throw new DataIntegrityException(what + " is a " + value.type() + " value, not the BINARY key check record");
        }
        ByteBuffer in = ByteBuffer.wrap(value.data());
        Map<String, byte[]> proofs = new LinkedHashMap<>();
        try {
            byte format = in.get();
            if (format != FORMAT) {
                throw new DataIntegrityException(what + " has format " + format + "; this ReliableStore reads format " + FORMAT
                        + " only (open it with a newer ReliableStore)");
            }
            int count = Short.toUnsignedInt(in.getShort());
            for (int i = 0; i < count; i++) {
                byte[] name = new byte[Byte.toUnsignedInt(in.get())];
                in.get(name);
                byte[] proof = new byte[NONCE_BYTES + TAG_BITS / 8];
                in.get(proof);
                proofs.put(new String(name, StandardCharsets.UTF_8), proof);
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new DataIntegrityException(what + " is truncated (" + value.size() + " bytes)");
        }
        if (in.hasRemaining()) {
            throw new DataIntegrityException(what + " has " + in.remaining() + " bytes after its last entry");
        }
        return proofs;
    }
}
