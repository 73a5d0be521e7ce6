package dev.reliablestore.cluster;

import com.github.luben.zstd.Zstd;
import dev.reliablestore.api.DataIntegrityException;
import org.junit.jupiter.api.Test;

import javax.crypto.SecretKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Seeded random mutations of valid envelopes of every kind fed to the decoder for a bounded time:
 * only {@link DataIntegrityException} may escape. Two families: raw mutations (bit flips, bytes,
 * truncation, junk), which must never decode to anything but the original bytes; and authenticated
 * forgeries — header fields (flags, plaintext length, dictionary id) and the zstd payload (frame
 * header, truncation, extra frames, other frames) mutated, then the checksum recomputed or the
 * payload resealed with the key — which get past authentication and so exercise the length, frame
 * and dictionary checks behind it. The seed is printed so a failure can be replayed with -Dfuzz.seed.
 */
class EnvelopeFuzzTest {

    private static final long BUDGET_NANOS = Long.getLong("fuzz.seconds", 4) * 1_000_000_000L;

    @Test
    void mutatedEnvelopesOnlyEverRaiseTheIntegrityError() {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        System.out.println("EnvelopeFuzzTest seed = " + seed);
        Random random = new Random(seed);

        byte[][] samples = new byte[200][];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = ("{\"id\":" + i + ",\"name\":\"Customer " + i + "\",\"city\":\"Springfield\",\"tags\":[\"a\",\"b\"]}")
                    .getBytes(StandardCharsets.UTF_8);
        }
        byte[] dictBuffer = new byte[2048];
        int dictSize = (int) Zstd.trainFromBuffer(samples, dictBuffer);
        CodecTestSupport.FixedDictionaries dicts = new CodecTestSupport.FixedDictionaries();
        dicts.add(CompressionDictionary.of(1, Arrays.copyOf(dictBuffer, dictSize), EnvelopeCodec.COMPRESSION_LEVEL));

        List<EnvelopeCodec> codecs = List.of(
                new EnvelopeCodec("R", false, null, null),
                new EnvelopeCodec("R", true, null, null),
                new EnvelopeCodec("R", true, dicts, null),
                new EnvelopeCodec("R", false, null, CodecTestSupport.ring("k", "k")),
                new EnvelopeCodec("R", true, dicts, CodecTestSupport.ring("k", "k")));
        record Case(EnvelopeCodec codec, byte[] plain, byte[] envelope, byte[] payload) {
        }
        List<Case> cases = new ArrayList<>();
        for (EnvelopeCodec codec : codecs) {
            for (byte[] plain : List.of(samples[3], ("{\"t\":\"" + "xyz".repeat(300) + "\"}").getBytes(StandardCharsets.UTF_8),
                    "{}".getBytes(StandardCharsets.UTF_8))) {
                byte[] envelope = codec.encode("T", "id", 9, plain).envelope();
                SecretKey key = codec.encrypts() ? codec.keys().key("k") : null;
                cases.add(new Case(codec, plain, envelope, EnvelopeForger.payload("R", "T", "id", envelope, key)));
            }
        }

        long deadline = System.nanoTime() + BUDGET_NANOS;
        long runs = 0;
        long integrityErrors = 0;
        long forgeries = 0;
        long forgeriesDecoded = 0;
        while (System.nanoTime() < deadline) {
            Case c = cases.get(random.nextInt(cases.size()));
            boolean forged = random.nextInt(3) == 0;
            byte[] mutated = forged ? forge(c.envelope(), c.payload(), c.codec(), random) : mutate(c.envelope(), random);
            forgeries += forged ? 1 : 0;
            try {
                byte[] out = c.codec().decode("T", "id", 9, mutated);
                forgeriesDecoded += forged ? 1 : 0;
                if (out.length > EnvelopeCodec.MAX_PLAINTEXT) {
                    fail("seed " + seed + ": decoded " + out.length + " bytes, above the limit");
                }
                if (!forged && !Arrays.equals(out, c.plain())) {
                    fail("seed " + seed + ": a mutated envelope decoded to different bytes: " + Arrays.toString(mutated));
                }
            } catch (DataIntegrityException expected) {
                integrityErrors++;
            } catch (Throwable other) {
                fail("seed " + seed + ": " + other + " escaped for input " + Arrays.toString(mutated), other);
            }
            runs++;
        }
        System.out.println("EnvelopeFuzzTest: " + runs + " mutated envelopes, " + integrityErrors + " refused; " + forgeries
                + " authenticated forgeries, " + forgeriesDecoded + " of them decoded");
        assertThat(runs).isGreaterThan(1000);
        assertThat(integrityErrors).isGreaterThan(runs / 2);
        // the forgeries reach the decoder's inner checks: some are refused there, some are consistent enough to decode
        assertThat(forgeriesDecoded).isPositive().isLessThan(forgeries);
    }

    /**
     * An authenticated forgery of {@code envelope}: some header fields and/or the payload changed,
     * then the checksum recomputed or the payload sealed with the codec's key.
     */
    private static byte[] forge(byte[] envelope, byte[] payload, EnvelopeCodec codec, Random r) {
        EnvelopeCodec.Header h = EnvelopeCodec.header(envelope, "fuzz");
        int flags = h.flags() & ~EnvelopeCodec.ENCRYPTED;
        int plainLength = Math.max(h.plainLength(), 0);
        int dictionaryId = h.dictionaryId();
        byte[] p = payload.clone();
        int changes = 1 + r.nextInt(3);
        for (int i = 0; i < changes; i++) {
            switch (r.nextInt(8)) {
                case 0 -> flags = r.nextInt(4); // includes "dictionary without compression", which is invalid
                case 1 -> plainLength += r.nextInt(9) - 4;
                case 2 -> plainLength = switch (r.nextInt(4)) {
                    case 0 -> r.nextInt();
                    case 1 -> EnvelopeCodec.MAX_PLAINTEXT;
                    case 2 -> EnvelopeCodec.MAX_PLAINTEXT + 1;
                    default -> r.nextInt(1 << 16);
                };
                case 3 -> dictionaryId = r.nextBoolean() ? r.nextInt(4) : r.nextInt();
                case 4 -> { // the zstd frame header: magic, descriptor, window, dictionary id, content size
                    if (p.length > 0) {
                        p[r.nextInt(Math.min(p.length, 18))] = (byte) r.nextInt(256);
                    }
                }
                case 5 -> p = Arrays.copyOf(p, r.nextInt(p.length + 1));
                case 6 -> { // another frame after this one, possibly large once decompressed
                    byte[] extra = Zstd.compress(new byte[r.nextInt(1 << 20)]);
                    byte[] two = Arrays.copyOf(p, p.length + extra.length);
                    System.arraycopy(extra, 0, two, p.length, extra.length);
                    p = two;
                }
                default -> { // a different, valid frame
                    byte[] content = new byte[r.nextInt(4096)];
                    r.nextBytes(content);
                    p = Zstd.compress(content);
                    if (r.nextBoolean()) {
                        plainLength = content.length;
                    }
                }
            }
        }
        if (codec.encrypts()) {
            byte[] nonce = new byte[EnvelopeCodec.NONCE_BYTES];
            r.nextBytes(nonce);
            byte[] header = EnvelopeForger.header(flags | EnvelopeCodec.ENCRYPTED, h.version(), plainLength, dictionaryId, "k", nonce);
            return EnvelopeForger.sealed("R", "T", "id", header, p, codec.keys().key("k"));
        }
        return EnvelopeForger.checksummed("R", "T", "id", EnvelopeForger.header(flags, h.version(), plainLength, dictionaryId, null, null), p);
    }

    private static byte[] mutate(byte[] in, Random r) {
        byte[] out = in.clone();
        int kind = r.nextInt(7);
        switch (kind) {
            case 0 -> out[r.nextInt(out.length)] ^= (byte) (1 << r.nextInt(8));
            case 1 -> out[r.nextInt(out.length)] = (byte) r.nextInt(256);
            case 2 -> out = Arrays.copyOf(out, r.nextInt(out.length));
            case 3 -> {
                byte[] longer = Arrays.copyOf(out, out.length + 1 + r.nextInt(64));
                for (int i = out.length; i < longer.length; i++) {
                    longer[i] = (byte) r.nextInt(256);
                }
                out = longer;
            }
            case 4 -> {
                // header fields: flags, lengths, key id length, dictionary id
                int pos = 2 + r.nextInt(Math.min(24, out.length - 2));
                out[pos] = (byte) r.nextInt(256);
            }
            case 5 -> {
                int n = 1 + r.nextInt(8);
                for (int i = 0; i < n; i++) {
                    out[r.nextInt(out.length)] = (byte) r.nextInt(256);
                }
            }
            default -> {
                byte[] junk = new byte[r.nextInt(200)];
                r.nextBytes(junk);
                if (junk.length > 0 && r.nextBoolean()) {
                    junk[0] = EnvelopeCodec.MAGIC;
                    if (junk.length > 1) {
                        junk[1] = EnvelopeCodec.FORMAT;
                    }
                }
                out = junk;
            }
        }
        return out;
    }
}
