package dev.reliablestore.cluster;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.cluster.crypto.KeyRing;

import javax.crypto.spec.SecretKeySpec;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Key rings and dictionary lookups for codec tests. */
final class CodecTestSupport {

    private CodecTestSupport() {
    }

    static SecretKeySpec randomKey(SecureRandom random) {
        byte[] k = new byte[32];
        random.nextBytes(k);
        return new SecretKeySpec(k, "AES");
    }

    static KeyRing ring(String active, String... ids) {
        SecureRandom random = new SecureRandom();
        Map<String, SecretKeySpec> keys = new LinkedHashMap<>();
        for (String id : ids) {
            keys.put(id, randomKey(random));
        }
        return KeyRing.of(keys, active);
    }

    /** A lookup over a fixed set of dictionaries; the highest id is current. */
    static final class FixedDictionaries implements CompressionDictionary.Lookup {
        final Map<Integer, CompressionDictionary> byId = new HashMap<>();

        void add(CompressionDictionary d) {
            byId.put(d.id(), d);
        }

        @Override
        public CompressionDictionary current(String type) {
            return byId.keySet().stream().max(Integer::compare).map(byId::get).orElse(null);
        }

        @Override
        public CompressionDictionary byId(String type, int id) {
            CompressionDictionary d = byId.get(id);
            if (d == null) {
                throw new DataIntegrityException(type + ": no dictionary " + id);
            }
            return d;
        }

        @Override
        public void sample(String type, byte[] plaintext) {
        }
    }
}
