package dev.reliablestore.codec;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The write-side scan that decides whether a document must be tokenised against the read limits
 * ({@link JacksonEntityCodec}): it looks at a few bytes only, so it is checked against measuring
 * every run, on documents built to put runs of every length at every offset.
 */
class NumberRunScanTest {

    private static boolean numberChar(byte b) {
        return b >= '0' && b <= '9' || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E';
    }

    /** The reference: the longest run of number characters, every byte looked at. */
    private static int longestRun(byte[] json) {
        int longest = 0;
        int run = 0;
        for (byte b : json) {
            run = numberChar(b) ? run + 1 : 0;
            longest = Math.max(longest, run);
        }
        return longest;
    }

    @Test
    void agreesWithMeasuringEveryRunOnRandomDocuments() {
        Random random = new Random(15);
        byte[] alphabet = "0123456789-+.eE\"{}:,ax ".getBytes(StandardCharsets.US_ASCII);
        for (int doc = 0; doc < 20_000; doc++) {
            int limit = 1 + random.nextInt(40);
            byte[] json = new byte[random.nextInt(200)];
            int i = 0;
            while (i < json.length) {
                // runs of number characters around the limit, separated by other bytes
                int run = random.nextInt(3) == 0 ? limit - 2 + random.nextInt(5) : random.nextInt(limit + 1);
                for (int k = 0; k < run && i < json.length; k++) {
                    json[i++] = alphabet[random.nextInt(15)];
                }
                if (i < json.length) {
                    json[i++] = alphabet[15 + random.nextInt(alphabet.length - 15)];
                }
            }
            assertThat(JacksonEntityCodec.Typed.mayHoldNumberLongerThan(json, limit))
                    .as("limit %d, document %s", limit, new String(json, StandardCharsets.US_ASCII))
                    .isEqualTo(longestRun(json) > limit);
        }
    }

    @Test
    void aRunOfExactlyTheLimitPassesAndOneMoreIsFoundWhereverItStarts() {
        int limit = 1000;
        for (int offset = 0; offset < 2 * limit + 3; offset += 7) {
            for (int extra = 0; extra <= 1; extra++) {
                byte[] json = new byte[offset + limit + extra + 5];
                java.util.Arrays.fill(json, (byte) ' ');
                java.util.Arrays.fill(json, offset, offset + limit + extra, (byte) '9');
                assertThat(JacksonEntityCodec.Typed.mayHoldNumberLongerThan(json, limit)).as("offset %d, run %d", offset, limit + extra)
                        .isEqualTo(extra == 1);
            }
        }
        assertThat(JacksonEntityCodec.Typed.mayHoldNumberLongerThan(new byte[10], Integer.MAX_VALUE)).isFalse();
    }
}
