package dev.reliablestore.cluster;

import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryClosedException;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryStoppedException;
import dev.reliablestore.registry.RegistryUnavailableException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetrierTest {

    @Test
    void retryableFailuresAreRetriedUntilTheyPass() {
        Retrier r = new Retrier(3, Duration.ofMillis(1), Duration.ofSeconds(5), "embedded:x");
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger retries = new AtomicInteger();
        String result = r.call("read", () -> {
            if (calls.incrementAndGet() < 3) {
                throw new RegistryUnavailableException("no quorum", null);
            }
            return "ok";
        }, retries::incrementAndGet);
        assertThat(result).isEqualTo("ok");
        assertThat(retries).hasValue(2);
    }

    @Test
    void givingUpSaysHowOftenHowLongAndWhy() {
        Retrier r = new Retrier(3, Duration.ofMillis(1), Duration.ofSeconds(5), "embedded:x");
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> r.call("save of T/a", () -> {
            calls.incrementAndGet();
            throw new RegistryUnavailableException("connection lost", null, true);
        }, () -> { })).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("save of T/a").hasMessageContaining("connection lost")
                .hasMessageContaining("gave up after 4 attempt(s) over").hasMessageContaining("maxRetries=3")
                .hasMessageContaining("outcome of the last write attempt is unknown")
                .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue());
        assertThat(calls).hasValue(4);
    }

    @Test
    void anEarlierAttemptThatLostItsAnswerLeavesTheOutcomeUnknownWhateverTheLaterOnesDid() {
        Retrier r = new Retrier(3, Duration.ofMillis(1), Duration.ofSeconds(5), "embedded:x");
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> r.call("save of T/a", () -> {
            // the first attempt was sent and lost its answer; the later ones were refused before sending
            throw new RegistryUnavailableException(calls.incrementAndGet() == 1 ? "connection lost" : "not connected", null, calls.get() == 1);
        }, () -> { })).isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                .hasMessageContaining("the outcome of write attempt 1 is unknown");
        AtomicInteger refused = new AtomicInteger();
        assertThatThrownBy(() -> r.call("save of T/b", () -> {
            refused.incrementAndGet();
            throw new RegistryUnavailableException("not connected", null, false);
        }, () -> { })).isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).as("nothing was sent").isFalse())
                .message().doesNotContain("unknown");
    }

    @Test
    void failoverTimeoutBoundsTheWholeWait() {
        Retrier r = new Retrier(100, Duration.ofMillis(20), Duration.ofMillis(100), "embedded:x");
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> r.call("read", () -> {
            calls.incrementAndGet();
            throw new Retrier.Unavailable("only 1 cluster node(s) are up; minimumNodes = 2");
        }, () -> { })).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("failoverTimeout=PT0.1S").hasMessageContaining("minimumNodes = 2");
        assertThat(calls.get()).isBetween(2, 5);
    }

    /**
     * The pause before the next attempt is capped by what is left of failoverTimeout, not skipped:
     * with 50 ms doubling and 80 ms in all, the third attempt comes at 80 ms (giving up after the
     * second, at 50 ms, would miss a failover that ends between the two).
     */
    @Test
    void theLastPauseIsWhatIsLeftOfFailoverTimeout() {
        Retrier r = new Retrier(3, Duration.ofMillis(50), Duration.ofMillis(80), "embedded:x");
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> r.call("read", () -> {
            calls.incrementAndGet();
            throw new RegistryUnavailableException("no quorum", null, false);
        }, () -> { })).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("failoverTimeout=PT0.08S has passed");
        assertThat(calls.get()).as("attempts at 0, about 50 and 80 ms").isBetween(3, 4);
    }

    /** Retrying cannot help a registry that stopped after a failed write; it only delayed the error by the whole backoff. */
    @Test
    void aStoppedRegistryIsNotRetried() {
        Retrier r = new Retrier(3, Duration.ofMillis(1), Duration.ofSeconds(5), "embedded:x");
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger retries = new AtomicInteger();
        assertThatThrownBy(() -> r.call("save of T/a", () -> {
            calls.incrementAndGet();
            throw new RegistryStoppedException("the embedded registry x stopped accepting writes after writing its log failed"
                    + " (java.io.IOException: No space left on device); fix the cause, then close and reopen it", null, true);
        }, retries::incrementAndGet)).isInstanceOf(PersistenceException.class).isNotInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("save of T/a failed and was not retried").hasMessageContaining("No space left on device")
                .hasMessageContaining("outcome of this write is unknown").hasMessageContaining("reopen")
                .satisfies(e -> assertThat(((PersistenceException) e).isRetryable()).isFalse())
                .satisfies(e -> assertThat(((PersistenceException) e).outcomeUnknown()).as("the log write that failed may be on the disk").isTrue());
        assertThatThrownBy(() -> r.call("save of T/b", () -> {
            throw new RegistryStoppedException("the embedded registry x stopped accepting writes", null, false);
        }, () -> { })).isInstanceOfSatisfying(PersistenceException.class, e -> assertThat(e.outcomeUnknown()).as("refused before writing").isFalse());
        assertThat(calls).hasValue(1);
        assertThat(retries).hasValue(0);
    }

    /** A call whose first attempt was sent and lost its answer, and whose every later attempt throws {@code next}. */
    private static Supplier<Object> lostAnswerThen(RuntimeException next) {
        AtomicInteger calls = new AtomicInteger();
        return () -> {
            if (calls.incrementAndGet() == 1) {
                throw new RegistryUnavailableException("connection lost", null, true);
            }
            throw next;
        };
    }

    /** A stopped or damaged registry says nothing about an attempt made before it: the error must, or a caller takes the write for not applied. */
    @Test
    void aStoppedOrDamagedRegistryAfterALostAnswerStillNamesThatAttempt() {
        Retrier r = new Retrier(3, Duration.ofMillis(1), Duration.ofSeconds(5), "zookeeper:x");
        assertThatThrownBy(() -> r.call("save of T/a",
                lostAnswerThen(new RegistryStoppedException("the registry x stopped accepting writes", null, false)), () -> { })).isInstanceOf(PersistenceException.class)
                .hasMessageContaining("stopped accepting writes")
                .hasMessageContaining("the outcome of write attempt 1 is unknown")
                .satisfies(e -> assertThat(((PersistenceException) e).outcomeUnknown()).isTrue());
        assertThatThrownBy(() -> r.call("save of T/b",
                lostAnswerThen(new RegistryCorruptedException("change-log entry /log/e-7 does not decode")), () -> { })).isInstanceOf(PersistenceException.class)
                .hasMessageContaining("does not decode")
                .hasMessageContaining("the outcome of write attempt 1 is unknown")
                .satisfies(e -> assertThat(((PersistenceException) e).outcomeUnknown()).isTrue());
        assertThatThrownBy(() -> r.call("save of T/c", () -> {
            throw new RegistryCorruptedException("change-log entry /log/e-8 does not decode");
        }, () -> { })).isInstanceOfSatisfying(PersistenceException.class, e -> assertThat(e.outcomeUnknown()).isFalse())
                .message().doesNotContain("unknown");
    }

    /** Any other registry error after a lost answer (e.g. an ACL or authentication refusal on reconnecting) names the attempt too. */
    @Test
    void anotherRegistryErrorAfterALostAnswerNamesThatAttempt() {
        Retrier r = new Retrier(3, Duration.ofMillis(1), Duration.ofSeconds(5), "zookeeper:x");
        assertThatThrownBy(() -> r.call("save of T/a",
                lostAnswerThen(new RegistryException("authentication failed on reconnecting")), () -> { })).isInstanceOf(PersistenceException.class).hasMessageContaining("authentication failed")
                .hasMessageContaining("the outcome of write attempt 1 is unknown")
                .satisfies(e -> assertThat(((PersistenceException) e).outcomeUnknown()).isTrue());
        RegistryException alone = new RegistryException("authentication failed");
        assertThatThrownBy(() -> r.call("save of T/b", () -> {
            throw alone;
        }, () -> { })).as("left to the gateway's table").isSameAs(alone);
        assertThatThrownBy(() -> r.call("save of T/c", lostAnswerThen(new ConditionFailedException(0, null)), () -> { })).as("the gateway checks what landed").isInstanceOf(ConditionFailedException.class);
    }

    /** A retry refused before sending (planned anew, it grew past a limit) says nothing of the attempt whose answer was lost. */
    @Test
    void aRetryRefusedBeforeSendingAfterALostAnswerLeavesTheOutcomeUnknown() {
        Retrier r = new Retrier(3, Duration.ofMillis(1), Duration.ofSeconds(5), "zookeeper:x");
        for (RegistryException refusal : java.util.List.of(new dev.reliablestore.registry.RegistryLimitException("the request is 1049000 bytes,"
                + " more than maxRequestBytes 1048576", 1_049_000, 1_048_576), new RegistryArgumentException("bad name"))) {
            assertThatThrownBy(() -> r.call("save of T/a", lostAnswerThen(refusal), () -> { }))
                    .isInstanceOf(PersistenceException.class).hasMessageContaining(refusal.getMessage())
                    .hasMessageContaining("the outcome of write attempt 1 is unknown")
                    .satisfies(e -> assertThat(((PersistenceException) e).outcomeUnknown()).isTrue());
            assertThatThrownBy(() -> r.call("save of T/b", () -> {
                throw refusal;
            }, () -> { })).as("alone, left to the gateway's table: nothing was sent").isSameAs(refusal);
        }
    }

    /**
     * An interrupted thread is not retried: the pause before a retry returns at once while the flag is
     * set, so every retry would be sent within microseconds and the error would not say why. On ZooKeeper
     * the wait for an answer throws on an interrupt, with the outcome unknown, and sets the flag again.
     */
    @Test
    void anInterruptedCallIsNotRetriedAndSaysSo() {
        Retrier r = new Retrier(3, Duration.ofSeconds(1), Duration.ofSeconds(30), "zookeeper:x");
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger retries = new AtomicInteger();
        try {
            assertThatThrownBy(() -> r.call("save of T/a", () -> {
                calls.incrementAndGet();
                Thread.currentThread().interrupt();
                throw new RegistryUnavailableException("interrupted while waiting for the answer", null, true);
            }, retries::incrementAndGet)).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("save of T/a").hasMessageContaining("interrupted while waiting for the answer")
                    .hasMessageContaining("not retried because the calling thread was interrupted")
                    .hasMessageContaining("the outcome of the last write attempt is unknown")
                    .isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasCauseInstanceOf(RegistryUnavailableException.class);
            assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is kept").isTrue();
            assertThat(calls).hasValue(1);
            assertThat(retries).hasValue(0);

            // refused before sending on a thread interrupted already: nothing was written, and the error says so
            AtomicInteger refused = new AtomicInteger();
            assertThatThrownBy(() -> r.call("read", () -> {
                refused.incrementAndGet();
                throw new RegistryUnavailableException("not connected", null, false);
            }, retries::incrementAndGet)).isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isFalse())
                    .hasMessageContaining("not retried because the calling thread was interrupted").message().doesNotContain("unknown");
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
            assertThat(refused).hasValue(1);
            assertThat(retries).hasValue(0);
        } finally {
            Thread.interrupted();
        }
    }

    /** An interrupt during the pause before a retry: the retry is not sent, and not counted. */
    @Test
    void anInterruptDuringThePauseEndsTheCallWithoutTheRetry() throws Exception {
        Retrier r = new Retrier(3, Duration.ofSeconds(30), Duration.ofSeconds(60), "zookeeper:x");
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger retries = new AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean keptInterrupt = new java.util.concurrent.atomic.AtomicBoolean();
        Thread caller = new Thread(() -> {
            try {
                r.call("save of T/a", () -> {
                    calls.incrementAndGet();
                    throw new RegistryUnavailableException("not connected", null, false);
                }, retries::incrementAndGet);
            } catch (RuntimeException e) {
                failed.set(e);
            }
            keptInterrupt.set(Thread.currentThread().isInterrupted());
        });
        caller.start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> caller.getState() == Thread.State.TIMED_WAITING);
        caller.interrupt();
        caller.join(10_000);
        assertThat(caller.isAlive()).isFalse();
        assertThat(failed.get()).isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isFalse())
                .hasMessageContaining("not connected").hasMessageContaining("not retried because the calling thread was interrupted");
        assertThat(keptInterrupt).isTrue();
        assertThat(calls).hasValue(1);
        assertThat(retries).hasValue(0);
    }

    @Test
    void otherFailuresAreNotRetried() {
        Retrier r = new Retrier(3, Duration.ofMillis(1), Duration.ofSeconds(5), "embedded:x");
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> r.call("x", () -> {
            calls.incrementAndGet();
            throw new RegistryArgumentException("bad name");
        }, () -> { })).isInstanceOf(RegistryArgumentException.class);
        assertThat(calls).hasValue(1);
        assertThatThrownBy(() -> r.call("x", () -> {
            throw new RegistryClosedException("registry");
        }, () -> { })).isInstanceOf(StoreClosedException.class);
    }
}
