package dev.reliablestore.cluster.crypto;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The AES-256 data keys a store can use, by key id, and the id of the newest one (used for new
 * writes). Key ids are 1..64 bytes of UTF-8, printable, and are recorded in every encrypted value.
 * {@link #toString()} lists ids only.
 */
public final class KeyRing {

    /** Longest key id, in UTF-8 bytes. */
    public static final int MAX_KEY_ID_BYTES = 64;

    private final Map<String, SecretKey> keys;
    private final String activeKeyId;

    private KeyRing(Map<String, SecretKey> keys, String activeKeyId) {
        this.keys = keys;
        this.activeKeyId = activeKeyId;
    }

    /**
     * A key ring; {@code keys} in any order, {@code activeKeyId} must be one of them.
     *
     * @throws KeyManagementException when a key is not 256 bits, an id is invalid or the active id is unknown
     */
    public static KeyRing of(Map<String, ? extends SecretKey> keys, String activeKeyId) {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(activeKeyId, "activeKeyId");
        if (keys.isEmpty()) {
            throw new KeyManagementException("a key ring needs at least one key");
        }
        Map<String, SecretKey> copy = new LinkedHashMap<>();
        for (Map.Entry<String, ? extends SecretKey> e : keys.entrySet()) {
            checkKeyId(e.getKey());
            SecretKey k = Objects.requireNonNull(e.getValue(), "key " + e.getKey());
            byte[] encoded = k.getEncoded();
            if (encoded == null || encoded.length != 32) {
                throw new KeyManagementException("key \"" + e.getKey() + "\" is " + (encoded == null ? "not extractable"
                        : encoded.length * 8 + " bits") + "; AES-256 needs a 256-bit key");
            }
            copy.put(e.getKey(), new SecretKeySpec(encoded, "AES"));
            java.util.Arrays.fill(encoded, (byte) 0);
        }
        if (!copy.containsKey(activeKeyId)) {
            throw new KeyManagementException("active key id \"" + activeKeyId + "\" is not among the key ids " + copy.keySet());
        }
        return new KeyRing(Collections.unmodifiableMap(copy), activeKeyId);
    }

    static void checkKeyId(String id) {
        if (id == null || id.isEmpty()) {
            throw new KeyManagementException("a key id must not be empty");
        }
        if (id.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_ID_BYTES) {
            throw new KeyManagementException("key id \"" + id + "\" is longer than " + MAX_KEY_ID_BYTES + " UTF-8 bytes");
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (Character.isISOControl(c)) {
                throw new KeyManagementException("key id contains a control character at index " + i);
            }
            // UTF-8 writes an unpaired surrogate as '?': values sealed under the id would name another key in their header
            if (Character.isHighSurrogate(c) && i + 1 < id.length() && Character.isLowSurrogate(id.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new KeyManagementException("key id contains an unpaired surrogate at index " + i + "; UTF-8 cannot hold it");
            }
        }
    }

    /** The id new writes are encrypted with. */
    public String activeKeyId() {
        return activeKeyId;
    }

    /** Every key id of the ring. */
    public Set<String> keyIds() {
        return keys.keySet();
    }

    /** The key with this id, or null. */
    public SecretKey key(String keyId) {
        return keys.get(keyId);
    }

    @Override
    public String toString() {
        return "KeyRing[active=" + activeKeyId + ", ids=" + keys.keySet() + "]";
    }
}
