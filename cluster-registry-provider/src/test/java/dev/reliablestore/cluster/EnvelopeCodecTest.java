package dev.reliablestore.cluster;

import com.github.luben.zstd.Zstd;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.cluster.crypto.KeyRing;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnvelopeCodecTest {

    static final String ROOT = "RG/Software/ReliableStore/Data";
    static final byte[] JSON = ("{\"name\":\"Acme Corporation\",\"tier\":\"PREMIUM\",\"lines\":["
            + "{\"sku\":\"A-1\",\"qty\":1},{\"sku\":\"A-2\",\"qty\":2},{\"sku\":\"A-3\",\"qty\":3}],\"note\":\"confidential-marker\"}")
            .getBytes(StandardCharsets.UTF_8);

    @Test
    void plainRoundTripCarriesVersionAndChecksum() {
        EnvelopeCodec codec = new EnvelopeCodec(ROOT, false, null, null);
        EnvelopeCodec.Encoded e = codec.encode("Customer", "C-1", 7, JSON);
        EnvelopeCodec.Header h = EnvelopeCodec.header(e.envelope(), "x");
        assertThat(h.version()).isEqualTo(7);
        assertThat(h.flags()).isZero();
        assertThat(codec.decode("Customer", "C-1", 7, e.envelope())).isEqualTo(JSON);
        assertThatThrownBy(() -> codec.decode("Customer", "C-2", 7, e.envelope())).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("checksum");
    }

    @Test
    void compressionIsUsedOnlyWhenItPays() {
        EnvelopeCodec codec = new EnvelopeCodec(ROOT, true, null, null);
        byte[] repetitive = ("{\"text\":\"" + "abc".repeat(400) + "\"}").getBytes(StandardCharsets.UTF_8);
        EnvelopeCodec.Encoded e = codec.encode("T", "id", 1, repetitive);
        assertThat(e.compressedBytes()).isLessThan(e.plainBytes() / 4);
        assertThat(EnvelopeCodec.header(e.envelope(), "x").flags() & EnvelopeCodec.COMPRESSED).isNotZero();
        assertThat(codec.decode("T", "id", 1, e.envelope())).isEqualTo(repetitive);

        byte[] tiny = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        EnvelopeCodec.Encoded small = codec.encode("T", "id", 1, tiny);
        assertThat(EnvelopeCodec.header(small.envelope(), "x").flags()).isZero();
        assertThat(codec.decode("T", "id", 1, small.envelope())).isEqualTo(tiny);
    }

    @Test
    void encryptedValuesAreBoundToTheirPlaceAndVersion() {
        KeyRing ring = CodecTestSupport.ring("k1", "k1");
        EnvelopeCodec codec = new EnvelopeCodec(ROOT, true, null, ring);
        byte[] env = codec.encode("Customer", "C-1", 3, JSON).envelope();
        assertThat(new String(env, StandardCharsets.ISO_8859_1)).doesNotContain("confidential-marker");
        assertThat(codec.decode("Customer", "C-1", 3, env)).isEqualTo(JSON);
        // moved to another id, another type, another root
        assertThatThrownBy(() -> codec.decode("Customer", "C-2", 3, env)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("authentication failed");
        assertThatThrownBy(() -> codec.decode("Order", "C-1", 3, env)).isInstanceOf(DataIntegrityException.class);
        assertThatThrownBy(() -> new EnvelopeCodec("RG/Other", true, null, ring).decode("Customer", "C-1", 3, env))
                .isInstanceOf(DataIntegrityException.class);
        // replayed in place of a newer version
        assertThatThrownBy(() -> codec.decode("Customer", "C-1", 4, env)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("version 3");
        // version field edited to match: authentication fails
        byte[] edited = env.clone();
        edited[10] = 4;
        assertThatThrownBy(() -> codec.decode("Customer", "C-1", 4, edited)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("authentication failed");
        // every single flipped byte is detected
        for (int i = 0; i < env.length; i++) {
            byte[] flipped = env.clone();
            flipped[i] ^= 0x01;
            assertThatThrownBy(() -> codec.decode("Customer", "C-1", 3, flipped)).as("flip at %d", i)
                    .isInstanceOf(DataIntegrityException.class);
        }
        // truncated anywhere
        for (int len = 0; len < env.length; len++) {
            byte[] cut = Arrays.copyOf(env, len);
            assertThatThrownBy(() -> codec.decode("Customer", "C-1", 3, cut)).isInstanceOf(DataIntegrityException.class);
        }
    }

    @Test
    void wrongOrUnknownKeyIsAnIntegrityError() {
        EnvelopeCodec writer = new EnvelopeCodec(ROOT, false, null, CodecTestSupport.ring("k1", "k1"));
        byte[] env = writer.encode("T", "a", 1, JSON).envelope();
        EnvelopeCodec otherKeySameId = new EnvelopeCodec(ROOT, false, null, CodecTestSupport.ring("k1", "k1"));
        assertThatThrownBy(() -> otherKeySameId.decode("T", "a", 1, env)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("authentication failed");
        EnvelopeCodec unknownId = new EnvelopeCodec(ROOT, false, null, CodecTestSupport.ring("k2", "k2"));
        assertThatThrownBy(() -> unknownId.decode("T", "a", 1, env)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("\"k1\"");
        EnvelopeCodec noKeys = new EnvelopeCodec(ROOT, false, null, null);
        assertThatThrownBy(() -> noKeys.decode("T", "a", 1, env)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("encrypted");
        byte[] plain = noKeys.encode("T", "a", 1, JSON).envelope();
        assertThatThrownBy(() -> writer.decode("T", "a", 1, plain)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("not encrypted");
    }

    @Test
    void rotationKeepsOldValuesReadableAndWritesWithTheNewestKey() {
        KeyRing old = CodecTestSupport.ring("k1", "k1");
        byte[] env = new EnvelopeCodec(ROOT, true, null, old).encode("T", "a", 1, JSON).envelope();
        KeyRing rotated = KeyRing.of(Map.of("k1", old.key("k1"), "k2", CodecTestSupport.randomKey(new java.security.SecureRandom())), "k2");
        EnvelopeCodec codec = new EnvelopeCodec(ROOT, true, null, rotated);
        assertThat(codec.decode("T", "a", 1, env)).isEqualTo(JSON);
        assertThat(EnvelopeCodec.header(codec.encode("T", "a", 2, JSON).envelope(), "x").keyId()).isEqualTo("k2");
    }

    @Test
    void unknownFormatAndForeignBytesAreRefused() {
        EnvelopeCodec codec = new EnvelopeCodec(ROOT, false, null, null);
        byte[] env = codec.encode("T", "a", 1, JSON).envelope();
        env[1] = 2;
        assertThatThrownBy(() -> codec.decode("T", "a", 1, env)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("format 2 is unknown");
        assertThatThrownBy(() -> codec.decode("T", "a", 1, JSON)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("not a ReliableStore envelope");
    }

    @Test
    void dictionaryIdIsRecordedAndUsedToDecode() {
        byte[][] samples = new byte[300][];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = ("{\"customerName\":\"Customer number " + i + "\",\"tier\":\"" + (i % 3 == 0 ? "GOLD" : "SILVER")
                    + "\",\"address\":{\"street\":\"" + i + " Main Street\",\"city\":\"Springfield\",\"country\":\"US\"}}")
                    .getBytes(StandardCharsets.UTF_8);
        }
        byte[] dictBuffer = new byte[4096];
        long size = Zstd.trainFromBuffer(samples, dictBuffer);
        assertThat(Zstd.isError(size)).isFalse();
        CodecTestSupport.FixedDictionaries dicts = new CodecTestSupport.FixedDictionaries();
        dicts.add(CompressionDictionary.of(5, Arrays.copyOf(dictBuffer, (int) size), EnvelopeCodec.COMPRESSION_LEVEL));
        EnvelopeCodec codec = new EnvelopeCodec(ROOT, true, dicts, null);
        byte[] sample = samples[17];
        EnvelopeCodec.Encoded e = codec.encode("T", "a", 1, sample);
        EnvelopeCodec.Header h = EnvelopeCodec.header(e.envelope(), "x");
        assertThat(h.flags() & EnvelopeCodec.DICTIONARY).isNotZero();
        assertThat(h.dictionaryId()).isEqualTo(5);
        assertThat(e.compressedBytes()).isLessThan(sample.length / 2);
        assertThat(codec.decode("T", "a", 1, e.envelope())).isEqualTo(sample);
        // a reader without that dictionary cannot guess: typed error
        EnvelopeCodec noDict = new EnvelopeCodec(ROOT, true, new CodecTestSupport.FixedDictionaries(), null);
        assertThatThrownBy(() -> noDict.decode("T", "a", 1, e.envelope())).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("dictionary 5");
    }
}
