package dev.reliablestore.spi;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A lock-free latency histogram with log-scaled buckets: every power of two is split into 16
 * equal buckets, so a bucket is at most 6.25 % wide and a percentile read from it is that exact.
 * Recording is two atomic adds; it never allocates.
 */
public final class LatencyRecorder {

    private static final int SUB_BITS = 4;
    private static final int SUB_BUCKETS = 1 << SUB_BITS;
    private static final int BUCKETS = 64 * SUB_BUCKETS;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final LongAdder total = new LongAdder();
    private final LongAdder sumNanos = new LongAdder();

    /** An empty histogram (providers keep one per operation kind). */
    public LatencyRecorder() {
    }

    /** Records one latency in nanoseconds; negative values count as 0. */
    public void record(long nanos) {
        long v = Math.max(0, nanos);
        counts.incrementAndGet(bucketOf(v));
        total.increment();
        sumNanos.add(v);
    }

    /** How many latencies were recorded. */
    public long count() {
        return total.sum();
    }

    /** The mean, zero when nothing was recorded. */
    public Duration average() {
        long n = total.sum();
        return n == 0 ? Duration.ZERO : Duration.ofNanos(sumNanos.sum() / n);
    }

    /**
     * The latency below which the given fraction of recordings fall (the upper edge of the bucket
     * holding that rank), zero when nothing was recorded.
     *
     * @param quantile from 0 (exclusive) to 1 (inclusive), e.g. 0.99
     */
    public Duration percentile(double quantile) {
        if (!(quantile > 0 && quantile <= 1)) {
            throw new IllegalArgumentException("quantile must be in (0, 1], got " + quantile);
        }
        long[] snapshot = new long[BUCKETS];
        long n = 0;
        for (int i = 0; i < BUCKETS; i++) {
            snapshot[i] = counts.get(i);
            n += snapshot[i];
        }
        if (n == 0) {
            return Duration.ZERO;
        }
        long rank = (long) Math.ceil(quantile * n);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += snapshot[i];
            if (seen >= rank) {
                return Duration.ofNanos(upperEdge(i));
            }
        }
        return Duration.ofNanos(upperEdge(BUCKETS - 1));
    }

    static int bucketOf(long v) {
        if (v < SUB_BUCKETS) {
            return (int) v; // values below 16 ns get exact buckets
        }
        int exponent = 63 - Long.numberOfLeadingZeros(v);
        int sub = (int) ((v >>> (exponent - SUB_BITS)) & (SUB_BUCKETS - 1));
        return (exponent - SUB_BITS + 1) * SUB_BUCKETS + sub;
    }

    static long upperEdge(int bucket) {
        if (bucket < SUB_BUCKETS) {
            return bucket;
        }
        int exponent = bucket / SUB_BUCKETS + SUB_BITS - 1;
        long sub = bucket % SUB_BUCKETS;
        long width = 1L << (exponent - SUB_BITS);
        long lower = (1L << exponent) + sub * width;
        return lower + width - 1 < 0 ? Long.MAX_VALUE : lower + width - 1;
    }
}
