package dev.reliablestore.cluster.crypto;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.bouncycastle.crypto.params.HKDFParameters;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Keys derived from passphrases with Argon2id and HKDF (Bouncy Castle lightweight API). */
final class PassphraseKeySource implements KeySource {

    static final int MEMORY_KIB = 19 * 1024;
    static final int ITERATIONS = 2;
    static final int LANES = 1;
    private static final byte[] DATA_KEY_INFO = "reliablestore/data-key/v1".getBytes(StandardCharsets.UTF_8);
    private static final byte[] KEY_ID_INFO = "reliablestore/key-id/v1".getBytes(StandardCharsets.UTF_8);

    private final List<char[]> passphrases;

    PassphraseKeySource(List<char[]> passphrases) {
        this.passphrases = passphrases;
    }

    @Override
    public KeyRing load(Context context) {
        byte[] salt = context.deploymentSalt();
        if (salt == null || salt.length < 16) {
            throw new KeyManagementException("the deployment salt must be at least 16 bytes");
        }
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        String active = null;
        for (char[] passphrase : passphrases) {
            if (passphrase.length == 0) {
                throw new KeyManagementException("a passphrase must not be empty");
            }
            byte[] master = argon2id(passphrase, salt);
            byte[] dataKey = hkdf(master, DATA_KEY_INFO, 32);
            String id = "pp-" + HexFormat.of().formatHex(hkdf(master, KEY_ID_INFO, 6));
            Arrays.fill(master, (byte) 0);
            keys.putIfAbsent(id, new SecretKeySpec(dataKey, "AES"));
            Arrays.fill(dataKey, (byte) 0);
            if (active == null) {
                active = id;
            }
        }
        return KeyRing.of(keys, active);
    }

    static byte[] argon2id(char[] passphrase, byte[] salt) {
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(passphrase));
        byte[] pw = new byte[encoded.remaining()];
        encoded.get(pw);
        Arrays.fill(encoded.array(), (byte) 0);
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(MEMORY_KIB).withIterations(ITERATIONS).withParallelism(LANES)
                .withSalt(salt).build());
        byte[] out = new byte[32];
        generator.generateBytes(pw, out);
        Arrays.fill(pw, (byte) 0);
        return out;
    }

    static byte[] hkdf(byte[] ikm, byte[] info, int length) {
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
        hkdf.init(new HKDFParameters(ikm, null, info));
        byte[] out = new byte[length];
        hkdf.generateBytes(out, 0, length);
        return out;
    }

    @Override
    public String toString() {
        return "Passphrase[" + passphrases.size() + " passphrase(s)]";
    }
}
