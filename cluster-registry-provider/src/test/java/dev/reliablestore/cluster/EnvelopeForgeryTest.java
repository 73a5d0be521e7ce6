package dev.reliablestore.cluster;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.cluster.crypto.KeyRing;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static dev.reliablestore.cluster.EnvelopeCodec.COMPRESSED;
import static dev.reliablestore.cluster.EnvelopeCodec.DICTIONARY;
import static dev.reliablestore.cluster.EnvelopeCodec.MAX_PLAINTEXT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Envelopes that pass authentication (a recomputed checksum, or sealed with the right key) but
 * lie in their lengths, frames or dictionary ids: each is a {@link DataIntegrityException}, and no
 * decode allocates more than the header's claim, which is at most {@link EnvelopeCodec#MAX_PLAINTEXT}.
 */
class EnvelopeForgeryTest {

    static final String ROOT = "R";
    static final KeyRing RING = CodecTestSupport.ring("k", "k");
    static final byte[] JSON = ("{\"name\":\"" + "forged ".repeat(40) + "\"}").getBytes(StandardCharsets.UTF_8);

    private static byte[] forge(boolean encrypted, int flags, int plainLength, int dictionaryId, byte[] payload) {
        if (encrypted) {
            byte[] header = EnvelopeForger.header(flags | EnvelopeCodec.ENCRYPTED, 9, plainLength, dictionaryId, "k", new byte[12]);
            return EnvelopeForger.sealed(ROOT, "T", "id", header, payload, RING.key("k"));
        }
        return EnvelopeForger.checksummed(ROOT, "T", "id", EnvelopeForger.header(flags, 9, plainLength, dictionaryId, null, null), payload);
    }

    private static EnvelopeCodec codec(boolean encrypted, CompressionDictionary.Lookup dictionaries) {
        return new EnvelopeCodec(ROOT, true, dictionaries, encrypted ? RING : null);
    }

    private static byte[] frame(byte[] content) {
        return new ZstdCompressCtx().setLevel(3).setChecksum(true).setContentSize(true).compress(content);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aForgedButConsistentValueDecodes(boolean encrypted) {
        // the forger is faithful: the refusals below are for the lie each one tells, not for a malformed forgery
        assertThat(codec(encrypted, null).decode("T", "id", 9, forge(encrypted, COMPRESSED, JSON.length, 0, frame(JSON)))).isEqualTo(JSON);
        assertThat(codec(encrypted, null).decode("T", "id", 9, forge(encrypted, 0, 0, 0, JSON))).isEqualTo(JSON);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aClaimedLengthAboveTheLimitIsRefusedBeforeAnythingIsAllocated(boolean encrypted) {
        for (int claim : new int[]{MAX_PLAINTEXT + 1, Integer.MAX_VALUE, -1}) {
            assertThatThrownBy(() -> codec(encrypted, null).decode("T", "id", 9, forge(encrypted, COMPRESSED, claim, 0, frame(JSON))))
                    .isInstanceOf(DataIntegrityException.class).hasMessageContaining(Integer.toString(claim))
                    .hasMessageContaining("limit is " + MAX_PLAINTEXT);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFrameClaimingGigabytesIsRefusedWithoutDecompressing(boolean encrypted) {
        byte[] big = new byte[100_000];
        byte[] bomb = frame(big);
        int fhd = bomb[4] & 0xFF;
        assertThat(fhd >>> 6).as("4-byte frame content size").isEqualTo(2);
        int fcs = 5 + ((fhd & 0x20) != 0 ? 0 : 1);
        Arrays.fill(bomb, fcs, fcs + 4, (byte) 0xFF);
        assertThat(Zstd.getFrameContentSize(bomb)).isEqualTo(0xFFFF_FFFFL);
        for (int claim : new int[]{big.length, MAX_PLAINTEXT}) {
            assertThatThrownBy(() -> codec(encrypted, null).decode("T", "id", 9, forge(encrypted, COMPRESSED, claim, 0, bomb)))
                    .isInstanceOf(DataIntegrityException.class).hasMessageContaining("frame holds 4294967295 bytes");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void framesThatDoNotMatchTheHeaderAreRefused(boolean encrypted) {
        EnvelopeCodec codec = codec(encrypted, null);
        byte[] noSize = new ZstdCompressCtx().setLevel(3).setContentSize(false).compress(JSON);
        assertThatThrownBy(() -> codec.decode("T", "id", 9, forge(encrypted, COMPRESSED, JSON.length, 0, noSize)))
                .isInstanceOf(DataIntegrityException.class);
        // a true first frame followed by a second one that would expand to 8 MiB
        byte[] first = frame(JSON);
        byte[] second = frame(new byte[8 << 20]);
        byte[] two = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, two, first.length, second.length);
        assertThatThrownBy(() -> codec.decode("T", "id", 9, forge(encrypted, COMPRESSED, JSON.length, 0, two)))
                .isInstanceOf(DataIntegrityException.class);
        // a frame cut short, and bytes that are no frame at all
        assertThatThrownBy(() -> codec.decode("T", "id", 9, forge(encrypted, COMPRESSED, JSON.length, 0,
                Arrays.copyOf(first, first.length - 6)))).isInstanceOf(DataIntegrityException.class);
        assertThatThrownBy(() -> codec.decode("T", "id", 9, forge(encrypted, COMPRESSED, JSON.length, 0, JSON)))
                .isInstanceOf(DataIntegrityException.class);
        assertThatThrownBy(() -> codec.decode("T", "id", 9, forge(encrypted, COMPRESSED, 0, 0, new byte[0])))
                .isInstanceOf(DataIntegrityException.class);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void dictionaryIdsThatDoNotExistOrDoNotMatchAreRefused(boolean encrypted) {
        byte[][] samples = new byte[100][];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = ("{\"id\":" + i + ",\"name\":\"Customer " + i + "\",\"city\":\"Springfield\"}").getBytes(StandardCharsets.UTF_8);
        }
        byte[] buffer = new byte[4096];
        int size = (int) Zstd.trainFromBuffer(samples, buffer);
        CompressionDictionary d1 = CompressionDictionary.of(1, Arrays.copyOf(buffer, size), 3);
        CodecTestSupport.FixedDictionaries dicts = new CodecTestSupport.FixedDictionaries();
        dicts.add(d1);
        byte[] withDict = new ZstdCompressCtx().setLevel(3).setContentSize(true).loadDict(d1.compress()).compress(samples[7]);
        int n = samples[7].length;
        assertThat(codec(encrypted, dicts).decode("T", "id", 9, forge(encrypted, COMPRESSED | DICTIONARY, n, 1, withDict)))
                .isEqualTo(samples[7]);
        for (int id : new int[]{0, 7, -1, Integer.MAX_VALUE}) {
            assertThatThrownBy(() -> codec(encrypted, dicts).decode("T", "id", 9, forge(encrypted, COMPRESSED | DICTIONARY, n, id, withDict)))
                    .isInstanceOf(DataIntegrityException.class).hasMessageContaining("dictionary " + id);
        }
        assertThatThrownBy(() -> codec(encrypted, null).decode("T", "id", 9, forge(encrypted, COMPRESSED | DICTIONARY, n, 1, withDict)))
                .isInstanceOf(DataIntegrityException.class).hasMessageContaining("no dictionaries");
        // a frame that needs the dictionary, in an envelope that does not name one
        assertThatThrownBy(() -> codec(encrypted, dicts).decode("T", "id", 9, forge(encrypted, COMPRESSED, n, 0, withDict)))
                .isInstanceOf(DataIntegrityException.class);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aKeyIdWithControlCharactersIsRefusedWithoutEchoingIt(boolean withKeys) {
        // key ids are recorded in clear: a forged one must not inject lines into the logs that quote it
        byte[] header = EnvelopeForger.header(EnvelopeCodec.ENCRYPTED, 9, 0, 0, "k\n12:00:00 ERROR forged log line\r", new byte[12]);
        byte[] forged = EnvelopeForger.sealed(ROOT, "T", "id", header, JSON, RING.key("k"));
        EnvelopeCodec codec = new EnvelopeCodec(ROOT, true, null, withKeys ? RING : null);
        assertThatThrownBy(() -> codec.decode("T", "id", 9, forged)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("key id").message().doesNotContain("\n", "\r", "forged log line");
        assertThatThrownBy(() -> EnvelopeCodec.header(forged, "T/id")).isInstanceOf(DataIntegrityException.class);
    }
}
