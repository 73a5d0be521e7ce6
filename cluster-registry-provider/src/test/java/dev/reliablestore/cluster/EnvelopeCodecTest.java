package dev.reliablestore.cluster;

import com.github.luben.zstd.Zstd;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityTooLargeException;
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

    /**
     * JSON over the 64 MiB the codec encodes at all was refused with its JSON size called the encoded
     * size and maxValueSizeKB's limit called the limit: neither was the bound it failed.
     */
    @Test
    void jsonOverTheLargestEncodableDocumentNamesThatBoundNotTheValueLimit() {
        EnvelopeCodec codec = new EnvelopeCodec(ROOT, true, null, null);
        assertThatThrownBy(() -> codec.encodeAtMost(1 << 20, "Customer", "C-1", 1, new byte[EnvelopeCodec.MAX_PLAINTEXT + 1]))
                .isInstanceOfSatisfying(EntityTooLargeException.class, e -> {
                    assertThat(e.id()).isEqualTo("C-1");
                    assertThat(e.size()).isEqualTo(EnvelopeCodec.MAX_PLAINTEXT + 1L);
                    assertThat(e.limit()).isEqualTo(EnvelopeCodec.MAX_PLAINTEXT);
                })
                .hasMessage("entity Customer/C-1 is 67108865 bytes serialized, before compression and encryption; the largest"
                        + " document the store encodes is 67108864 bytes");
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

    /** UTF-8 writes every unpaired surrogate as '?': these three ids would share one place. */
    @Test
    void idsWithUnpairedSurrogatesKeepAPlaceOfTheirOwn() {
        for (KeyRing ring : new KeyRing[]{null, CodecTestSupport.ring("k1", "k1")}) {
            EnvelopeCodec codec = new EnvelopeCodec(ROOT, true, null, ring);
            byte[] env = codec.encode("Customer", "a\uD800", 3, JSON).envelope();
            assertThat(EnvelopeCodec.header(env, "x").flags() & EnvelopeCodec.EXACT_PLACE).isNotZero();
            assertThat(codec.decode("Customer", "a\uD800", 3, env)).isEqualTo(JSON);
            for (String other : new String[] {"a\uDC00", "a?", "a\uD800\uDC00"}) {
                assertThatThrownBy(() -> codec.decode("Customer", other, 3, env)).as("%s with %s", ring, other)
                        .isInstanceOf(DataIntegrityException.class);
            }
            EnvelopeCodec.Encoded wellFormed = codec.encode("Customer", "a?\uD83D\uDE00", 3, JSON);
            assertThat(EnvelopeCodec.header(wellFormed.envelope(), "x").flags() & EnvelopeCodec.EXACT_PLACE).isZero();
            // compatibility: an envelope without the flag (as sealed before it existed) is read with the UTF-8 place; so is one
            // of the look-alike id with '?' moved here, the residual security.md states
            byte[] before = codec.encode("Customer", "b?", 3, JSON).envelope();
            assertThat(codec.decode("Customer", "b\uDC00", 3, before)).isEqualTo(JSON);
        }
    }

    @Test
    void aStampedValueIsBoundToItsSiteAndCarriesItsStampAuthenticated() {
        byte[] stamp = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        for (KeyRing ring : new KeyRing[]{null, CodecTestSupport.ring("k1", "k1")}) {
            EnvelopeCodec paris = new EnvelopeCodec(ROOT, true, null, ring, "paris");
            EnvelopeCodec tokyo = new EnvelopeCodec(ROOT, true, null, ring, "tokyo");
            byte[] env = paris.encode("Customer", "C-1", 4, JSON, stamp).envelope();
            EnvelopeCodec.Header h = EnvelopeCodec.header(env, "x");
            assertThat(h.flags() & EnvelopeCodec.STAMPED).isNotZero();
            assertThat(h.site()).isEqualTo("paris");
            assertThat(h.stamp()).isEqualTo(stamp);
            dev.reliablestore.cluster.geo.SiteEnvelopes.Opened opened = paris.open("Customer", "C-1", 4, env);
            assertThat(opened.json()).isEqualTo(JSON);
            assertThat(opened.stamp()).isEqualTo(stamp);
            // the same bytes in the other site's registry: refused, whatever the keys
            assertThatThrownBy(() -> tokyo.decode("Customer", "C-1", 4, env)).isInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining("bound to site 'paris' and this is site 'tokyo'");
            // a store that does not know its site (opened without sites) still reads it
            assertThat(new EnvelopeCodec(ROOT, true, null, ring).decode("Customer", "C-1", 4, env)).isEqualTo(JSON);
            // the site and the stamp are authenticated: one flipped bit in either is refused
            int siteOffset = EnvelopeCodec.FIXED_HEADER + ((h.flags() & EnvelopeCodec.COMPRESSED) != 0 ? 4 : 0) + 1;
            for (int at : new int[]{siteOffset, siteOffset + "paris".length() + 2 + 3}) {
                byte[] forged = env.clone();
                forged[at] ^= 1;
                EnvelopeCodec reader = new EnvelopeCodec(ROOT, true, null, ring);
                assertThatThrownBy(() -> reader.decode("Customer", "C-1", 4, forged)).isInstanceOf(DataIntegrityException.class);
            }
            // every truncation is an integrity error, never another exception
            for (int n = 0; n < env.length; n++) {
                byte[] cut = Arrays.copyOf(env, n);
                assertThatThrownBy(() -> paris.decode("Customer", "C-1", 4, cut)).isInstanceOf(DataIntegrityException.class);
            }
            // an unstamped value (written before sites were configured) is read by a site's store
            byte[] before = new EnvelopeCodec(ROOT, true, null, ring).encode("Customer", "C-1", 4, JSON).envelope();
            assertThat(tokyo.open("Customer", "C-1", 4, before).stamp()).isNull();
        }
    }

    @Test
    void aStampNeedsASiteAndFitsItsLimit() {
        assertThatThrownBy(() -> new EnvelopeCodec(ROOT, false, null, null).encode("T", "id", 1, JSON, new byte[]{1}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs the site");
        EnvelopeCodec paris = new EnvelopeCodec(ROOT, false, null, null, "paris");
        assertThatThrownBy(() -> paris.encode("T", "id", 1, JSON, new byte[EnvelopeCodec.MAX_STAMP_BYTES + 1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4097 bytes; the limit is 4096");
        assertThatThrownBy(() -> new EnvelopeCodec(ROOT, false, null, null, "")).isInstanceOf(IllegalArgumentException.class);
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
        byte[][] samples = customerSamples();
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

    private static byte[][] customerSamples() {
        byte[][] samples = new byte[300][];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = ("{\"customerName\":\"Customer number " + i + "\",\"tier\":\"" + (i % 3 == 0 ? "GOLD" : "SILVER")
                    + "\",\"address\":{\"street\":\"" + i + " Main Street\",\"city\":\"Springfield\",\"country\":\"US\"}}")
                    .getBytes(StandardCharsets.UTF_8);
        }
        return samples;
    }

    /** A dictionary that cannot be fetched now (registry unreachable, factory closing) is that failure, not damage. */
    @Test
    void aDictionaryThatCannotBeFetchedIsThatFailureNotDamage() {
        byte[][] samples = customerSamples();
        byte[] dictBuffer = new byte[4096];
        long size = Zstd.trainFromBuffer(samples, dictBuffer);
        CodecTestSupport.FixedDictionaries dicts = new CodecTestSupport.FixedDictionaries();
        dicts.add(CompressionDictionary.of(5, Arrays.copyOf(dictBuffer, (int) size), EnvelopeCodec.COMPRESSION_LEVEL));
        byte[] envelope = new EnvelopeCodec(ROOT, true, dicts, null).encode("T", "a", 1, samples[17]).envelope();
        for (dev.reliablestore.api.PersistenceException failure : java.util.List.of(
                new dev.reliablestore.api.StoreUnavailableException("registry unreachable"),
                new dev.reliablestore.api.StoreClosedException("the factory"))) {
            EnvelopeCodec reader = new EnvelopeCodec(ROOT, true, new CompressionDictionary.Lookup() {
                @Override
                public CompressionDictionary current(String type) {
                    return null;
                }

                @Override
                public CompressionDictionary byId(String type, int id) {
                    throw failure;
                }

                @Override
                public void sample(String type, byte[] plaintext) {
                }
            }, null);
            assertThatThrownBy(() -> reader.decode("T", "a", 1, envelope)).isSameAs(failure);
        }
    }

    @Test
    void aThreadsZstdContextsAreFreedOnceTheThreadIsGone() throws Exception {
        EnvelopeCodec codec = new EnvelopeCodec(ROOT, true, null, null);
        java.util.List<com.github.luben.zstd.ZstdCompressCtx> contexts = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < 8; t++) {
            int id = t;
            Thread thread = new Thread(() -> {
                codec.encode("Order", "o" + id, 1, JSON);
                contexts.add(EnvelopeCodec.plainCompressorOfThisThread());
            });
            thread.start();
            thread.join();
        }
        assertThat(contexts).hasSize(8).doesNotHaveDuplicates();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
            System.gc();
            return contexts.stream().allMatch(EnvelopeCodecTest::closed);
        });
        // this thread's own context stays open
        assertThat(closed(EnvelopeCodec.plainCompressorOfThisThread())).isFalse();
    }

    private static boolean closed(com.github.luben.zstd.ZstdCompressCtx context) {
        try {
            context.compress(new byte[] {1});
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}
