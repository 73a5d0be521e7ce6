package dev.reliablestore.cluster;

import com.github.luben.zstd.Zstd;
import dev.reliablestore.api.DataIntegrityException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Seeded random mutations of valid envelopes of every kind fed to the decoder for a bounded time:
 * only {@link DataIntegrityException} may escape, and a mutation may only decode to the original
 * bytes (never to garbage). The seed is printed so a failure can be replayed with -Dfuzz.seed.
 */
class EnvelopeFuzzTest {

    private static final long BUDGET_NANOS = Long.getLong("fuzz.seconds", 10) * 1_000_000_000L;

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
        record Case(EnvelopeCodec codec, byte[] plain, byte[] envelope) {
        }
        List<Case> cases = new ArrayList<>();
        for (EnvelopeCodec codec : codecs) {
            for (byte[] plain : List.of(samples[3], ("{\"t\":\"" + "xyz".repeat(300) + "\"}").getBytes(StandardCharsets.UTF_8),
                    "{}".getBytes(StandardCharsets.UTF_8))) {
                cases.add(new Case(codec, plain, codec.encode("T", "id", 9, plain).envelope()));
            }
        }

        long deadline = System.nanoTime() + BUDGET_NANOS;
        long runs = 0;
        long integrityErrors = 0;
        while (System.nanoTime() < deadline) {
            Case c = cases.get(random.nextInt(cases.size()));
            byte[] mutated = mutate(c.envelope(), random);
            try {
                byte[] out = c.codec().decode("T", "id", 9, mutated);
                if (!Arrays.equals(out, c.plain())) {
                    fail("seed " + seed + ": a mutated envelope decoded to different bytes: " + Arrays.toString(mutated));
                }
            } catch (DataIntegrityException expected) {
                integrityErrors++;
            } catch (Throwable other) {
                fail("seed " + seed + ": " + other + " escaped for input " + Arrays.toString(mutated), other);
            }
            runs++;
        }
        System.out.println("EnvelopeFuzzTest: " + runs + " mutated envelopes, " + integrityErrors + " refused");
        assertThat(runs).isGreaterThan(1000);
        assertThat(integrityErrors).isGreaterThan(runs / 2);
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
