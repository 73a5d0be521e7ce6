package dev.reliablestore.tx;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.TransactionRolledBackException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetryPolicyTest {

    private final List<Duration> waits = new ArrayList<>();

    private RetryPolicy policy(RetryPolicy.Builder b, double random) {
        return b.build().with(waits::add, () -> random);
    }

    @Test
    void retriesRetryableFailuresWithExponentialCappedBackoff() throws Exception {
        RetryPolicy p = policy(RetryPolicy.builder().maxAttempts(5).initialBackoff(Duration.ofMillis(100))
                .maxBackoff(Duration.ofMillis(300)).multiplier(2).jitter(0.5), 0.0);
        int[] calls = {0};
        String result = p.execute(() -> {
            if (++calls[0] < 5) {
                throw new StoreUnavailableException("no quorum");
            }
            return "ok";
        });
        assertThat(result).isEqualTo("ok");
        assertThat(calls[0]).isEqualTo(5);
        assertThat(waits).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(300), Duration.ofMillis(300));
    }

    @Test
    void jitterRemovesUpToItsFractionOfTheWait() {
        RetryPolicy full = policy(RetryPolicy.builder().initialBackoff(Duration.ofMillis(100)).jitter(0.5), 1.0);
        assertThat(full.backoff(1)).isEqualTo(Duration.ofMillis(50));
        assertThat(full.backoff(2)).isEqualTo(Duration.ofMillis(100));
        RetryPolicy none = policy(RetryPolicy.builder().initialBackoff(Duration.ofMillis(100)).jitter(0.5), 0.0);
        assertThat(none.backoff(2)).isEqualTo(Duration.ofMillis(200));
    }

    @Test
    void givesUpAfterMaxAttemptsWithEarlierFailuresSuppressed() {
        RetryPolicy p = policy(RetryPolicy.builder().maxAttempts(3), 0.5);
        List<StoreUnavailableException> thrown = new ArrayList<>();
        assertThatThrownBy(() -> p.execute(() -> {
            StoreUnavailableException e = new StoreUnavailableException("attempt " + (thrown.size() + 1));
            thrown.add(e);
            throw e;
        })).isInstanceOf(StoreUnavailableException.class).hasMessage("attempt 3")
                .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(thrown.get(0), thrown.get(1)));
        assertThat(waits).hasSize(2);
    }

    @Test
    void doesNotRetryOtherFailuresNorConflictsUnlessAskedTo() {
        RetryPolicy p = policy(RetryPolicy.builder().maxAttempts(5), 0.5);
        int[] calls = {0};
        IllegalArgumentException bad = new IllegalArgumentException("bad id");
        assertThatThrownBy(() -> p.execute(() -> {
            calls[0]++;
            throw bad;
        })).isSameAs(bad);
        assertThat(calls[0]).isEqualTo(1);

        ConcurrencyConflictException conflict = new ConcurrencyConflictException("Order", "o", 1, 2);
        TransactionRolledBackException rolledBack = new TransactionRolledBackException("no", conflict);
        assertThat(p.isRetryable(conflict)).isFalse();
        assertThat(p.isRetryable(rolledBack)).isFalse();
        RetryPolicy conflicts = policy(RetryPolicy.builder().retryConflicts(true), 0.5);
        assertThat(conflicts.isRetryable(rolledBack)).as("conflict in the cause chain").isTrue();
        assertThat(conflicts.isRetryable(new TransactionRolledBackException("no",
                new StoreUnavailableException("down")))).isTrue();
        assertThat(waits).isEmpty();
    }

    /** A write that may have landed is never run again: with the default policy it would apply twice. */
    @Test
    void aFailureWhoseOutcomeIsUnknownIsNeverRetried() {
        RetryPolicy p = policy(RetryPolicy.builder().maxAttempts(5).retryConflicts(true), 0.5);
        StoreUnavailableException lost = new StoreUnavailableException("answer lost", null, true);
        assertThat(lost.isRetryable()).as("retryable by itself").isTrue();
        assertThat(p.isRetryable(lost)).isFalse();
        assertThat(p.isRetryable(new dev.reliablestore.api.TransactionOutcomeUnknownException("commit", lost))).isFalse();
        assertThat(p.isRetryable(new dev.reliablestore.api.TransactionOutcomeUnknownException("commit",
                new StoreUnavailableException("down")))).as("the transaction's outcome is unknown whatever its cause").isFalse();
        int[] calls = {0};
        assertThatThrownBy(() -> p.execute(() -> {
            calls[0]++;
            throw lost;
        })).isSameAs(lost);
        assertThat(calls[0]).isEqualTo(1);
        assertThat(waits).isEmpty();
    }

    @Test
    void anInterruptedWaitStopsRetryingAndKeepsTheInterrupt() {
        RetryPolicy p = RetryPolicy.builder().maxAttempts(3).build().with(d -> {
            throw new InterruptedException("stop");
        }, () -> 0.0);
        StoreUnavailableException down = new StoreUnavailableException("down");
        try {
            assertThatThrownBy(() -> p.execute(() -> {
                throw down;
            })).isSameAs(down).satisfies(e -> assertThat(e.getSuppressed()).singleElement().isInstanceOf(InterruptedException.class));
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void badSettingsAreRefusedWithTheLimit() {
        assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0)).hasMessageContaining("1..100").hasMessageContaining("0");
        assertThatThrownBy(() -> RetryPolicy.builder().jitter(1.5)).hasMessageContaining("0.0 .. 1.0");
        assertThatThrownBy(() -> RetryPolicy.builder().multiplier(0.5)).hasMessageContaining("1.0 .. 10.0");
        assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofSeconds(2)).maxBackoff(Duration.ofSeconds(1)).build())
                .hasMessageContaining("must not be below");
    }
}
