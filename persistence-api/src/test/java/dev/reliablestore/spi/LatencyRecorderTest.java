package dev.reliablestore.spi;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LatencyRecorderTest {

    @Test
    void emptyRecorderReportsZero() {
        LatencyRecorder r = new LatencyRecorder();
        assertThat(r.count()).isZero();
        assertThat(r.average()).isEqualTo(Duration.ZERO);
        assertThat(r.percentile(0.99)).isEqualTo(Duration.ZERO);
    }

    @Test
    void percentilesAreWithinTheBucketResolution() {
        LatencyRecorder r = new LatencyRecorder();
        for (long v = 1; v <= 100_000; v++) {
            r.record(v * 1000); // 1 µs .. 100 ms, uniform
        }
        assertThat(r.count()).isEqualTo(100_000);
        assertThat(r.average().toNanos()).isEqualTo(50_000_500L); // exact mean of 1000..100_000_000 step 1000
        assertWithinResolution(r.percentile(0.5), 50_000_000L);
        assertWithinResolution(r.percentile(0.99), 99_000_000L);
        assertWithinResolution(r.percentile(1.0), 100_000_000L);
        assertWithinResolution(r.percentile(0.001), 100_000L);
    }

    /** The reported value is the bucket's upper edge: never below the true value, at most 6.25 % above. */
    private static void assertWithinResolution(Duration reported, long trueNanos) {
        assertThat(reported.toNanos()).isGreaterThanOrEqualTo(trueNanos).isLessThanOrEqualTo((long) (trueNanos * 1.0625));
    }

    @Test
    void smallValuesAreExactAndBucketsNeverOverlap() {
        for (long v = 0; v < 16; v++) {
            assertThat(LatencyRecorder.upperEdge(LatencyRecorder.bucketOf(v))).isEqualTo(v);
        }
        long previousEdge = -1;
        for (int b = 0; b < 64 * 16 - 16 * 4; b++) {
            long edge = LatencyRecorder.upperEdge(b);
            assertThat(edge).isGreaterThan(previousEdge);
            assertThat(LatencyRecorder.bucketOf(edge)).isEqualTo(b);
            assertThat(LatencyRecorder.bucketOf(previousEdge + 1)).isEqualTo(b);
            previousEdge = edge;
        }
    }

    @Test
    void extremesDoNotOverflowAndNegativesCountAsZero() {
        LatencyRecorder r = new LatencyRecorder();
        r.record(-5);
        assertThat(r.percentile(1.0)).isEqualTo(Duration.ZERO);
        r.record(Long.MAX_VALUE);
        assertThat(r.percentile(1.0).toNanos()).isEqualTo(Long.MAX_VALUE);
        assertThat(r.count()).isEqualTo(2);
    }

    @Test
    void quantileOutsideTheRangeIsRefusedWithTheValue() {
        LatencyRecorder r = new LatencyRecorder();
        assertThatThrownBy(() -> r.percentile(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0.0");
        assertThatThrownBy(() -> r.percentile(1.5)).hasMessageContaining("1.5");
        assertThatThrownBy(() -> r.percentile(Double.NaN)).hasMessageContaining("NaN");
    }

    @Test
    void concurrentRecordingLosesNothing() throws Exception {
        LatencyRecorder r = new LatencyRecorder();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long value = (t + 1) * 1_000_000L;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 50_000; i++) {
                        r.record(value);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(r.count()).isEqualTo(200_000);
        assertThat(r.average().toNanos()).isEqualTo(2_500_000L);
        assertWithinResolution(r.percentile(0.25), 1_000_000L);
        assertWithinResolution(r.percentile(0.26), 2_000_000L);
        assertWithinResolution(r.percentile(1.0), 4_000_000L);
    }
}
