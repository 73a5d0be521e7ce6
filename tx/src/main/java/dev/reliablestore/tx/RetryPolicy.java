package dev.reliablestore.tx;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.PersistenceException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Retries work that failed with a retryable error, with exponential backoff and jitter.
 *
 * <p>Retried: a {@link PersistenceException} whose {@link PersistenceException#isRetryable()} is
 * true, anywhere in the cause chain (e.g. a {@link dev.reliablestore.api.StoreUnavailableException});
 * and, only when {@link Builder#retryConflicts(boolean)} is set, a
 * {@link ConcurrencyConflictException} anywhere in the cause chain (the whole work must then be
 * re-run from its reads, e.g. a transaction). Anything else is rethrown at once. When the attempts
 * are used up the last failure is rethrown with the earlier ones attached as suppressed.
 *
 * <p>Never retried: a failure whose outcome is unknown ({@link PersistenceException#outcomeUnknown()}
 * anywhere in the cause chain, e.g. a {@link dev.reliablestore.api.TransactionOutcomeUnknownException}
 * or a save whose answer was lost): the write may have landed, so running the work again could
 * apply it twice. Read the data to decide.
 *
 * <p>The wait before attempt {@code n+1} is {@code min(maxBackoff, initialBackoff * multiplier^(n-1))},
 * reduced by a random fraction up to {@code jitter} of itself.
 *
 * <h2>Keys (builder), defaults and limits</h2>
 * <ul>
 * <li>{@code maxAttempts} — 3; 1..100 (1 = no retry).</li>
 * <li>{@code initialBackoff} — 50 ms; 0 .. 1 min.</li>
 * <li>{@code maxBackoff} — 2 s; initialBackoff .. 10 min.</li>
 * <li>{@code multiplier} — 2.0; 1.0 .. 10.0.</li>
 * <li>{@code jitter} — 0.5; 0.0 .. 1.0 (fraction of the wait that may be removed at random).</li>
 * <li>{@code retryConflicts} — false.</li>
 * </ul>
 */
public final class RetryPolicy {

    /** Waits; replaced in tests to observe the backoff without sleeping. */
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private final int maxAttempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final double multiplier;
    private final double jitter;
    private final boolean retryConflicts;
    private final Sleeper sleeper;
    private final DoubleSupplier random;

    private RetryPolicy(Builder b, Sleeper sleeper, DoubleSupplier random) {
        this.maxAttempts = b.maxAttempts;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.multiplier = b.multiplier;
        this.jitter = b.jitter;
        this.retryConflicts = b.retryConflicts;
        this.sleeper = sleeper;
        this.random = random;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The defaults: 3 attempts, 50 ms doubling up to 2 s, jitter 0.5, conflicts not retried. */
    public static RetryPolicy defaults() {
        return builder().build();
    }

    /** The same policy with another waiting strategy and random source (tests). */
    RetryPolicy with(Sleeper newSleeper, DoubleSupplier newRandom) {
        Builder b = new Builder().maxAttempts(maxAttempts).initialBackoff(initialBackoff).maxBackoff(maxBackoff)
                .multiplier(multiplier).jitter(jitter).retryConflicts(retryConflicts);
        return new RetryPolicy(b, newSleeper, newRandom);
    }

    /** Work for {@link #execute}. */
    @FunctionalInterface
    public interface Work<R, E extends Exception> {
        R run() throws E;
    }

    /**
     * Runs the work, retrying retryable failures.
     *
     * @throws E the last failure of the work
     */
    public <R, E extends Exception> R execute(Work<R, E> work) throws E {
        Objects.requireNonNull(work, "work");
        List<Exception> earlier = new ArrayList<>();
        for (int attempt = 1; ; attempt++) {
            try {
                return work.run();
            } catch (Exception failure) {
                if (!isRetryable(failure) || attempt >= maxAttempts) {
                    throw RetryPolicy.<E>withEarlier(failure, earlier);
                }
                earlier.add(failure);
                try {
                    sleeper.sleep(backoff(attempt));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    earlier.remove(earlier.size() - 1);
                    failure.addSuppressed(interrupted);
                    throw RetryPolicy.<E>withEarlier(failure, earlier);
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Exception> E withEarlier(Exception last, List<Exception> earlier) {
        for (Exception e : earlier) {
            if (e != last) {
                last.addSuppressed(e);
            }
        }
        // work.run() throws only E or unchecked exceptions, so this is one of those
        return (E) last;
    }

    /** Whether the policy retries this failure. */
    public boolean isRetryable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PersistenceException p && p.outcomeUnknown()) {
                return false; // it may have landed: a second run could apply it twice
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ConcurrencyConflictException) {
                return retryConflicts;
            }
            if (t instanceof PersistenceException p && p.isRetryable()) {
                return true;
            }
        }
        return false;
    }

    /** The wait after failed attempt {@code attempt} (1-based), jitter applied. */
    Duration backoff(int attempt) {
        double base = initialBackoff.toNanos() * Math.pow(multiplier, attempt - 1);
        double capped = Math.min(base, maxBackoff.toNanos());
        double withJitter = capped * (1.0 - jitter * random.getAsDouble());
        return Duration.ofNanos((long) withJitter);
    }

    public int maxAttempts() {
        return maxAttempts;
    }

    public boolean retryConflicts() {
        return retryConflicts;
    }

    @Override
    public String toString() {
        return "RetryPolicy[maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff + ", maxBackoff="
                + maxBackoff + ", multiplier=" + multiplier + ", jitter=" + jitter + ", retryConflicts=" + retryConflicts + "]";
    }

    /** Builds a {@link RetryPolicy}; see its class comment for defaults and limits. */
    public static final class Builder {
        private int maxAttempts = 3;
        private Duration initialBackoff = Duration.ofMillis(50);
        private Duration maxBackoff = Duration.ofSeconds(2);
        private double multiplier = 2.0;
        private double jitter = 0.5;
        private boolean retryConflicts;

        private Builder() {
        }

        public Builder maxAttempts(int n) {
            if (n < 1 || n > 100) {
                throw new IllegalArgumentException("maxAttempts must be 1..100, got " + n);
            }
            this.maxAttempts = n;
            return this;
        }

        public Builder initialBackoff(Duration d) {
            Objects.requireNonNull(d, "initialBackoff");
            if (d.isNegative() || d.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("initialBackoff must be 0 .. 1 min, got " + d);
            }
            this.initialBackoff = d;
            return this;
        }

        public Builder maxBackoff(Duration d) {
            Objects.requireNonNull(d, "maxBackoff");
            if (d.isNegative() || d.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new IllegalArgumentException("maxBackoff must be 0 .. 10 min, got " + d);
            }
            this.maxBackoff = d;
            return this;
        }

        public Builder multiplier(double m) {
            if (!(m >= 1.0 && m <= 10.0)) {
                throw new IllegalArgumentException("multiplier must be 1.0 .. 10.0, got " + m);
            }
            this.multiplier = m;
            return this;
        }

        public Builder jitter(double j) {
            if (!(j >= 0.0 && j <= 1.0)) {
                throw new IllegalArgumentException("jitter must be 0.0 .. 1.0, got " + j);
            }
            this.jitter = j;
            return this;
        }

        public Builder retryConflicts(boolean retry) {
            this.retryConflicts = retry;
            return this;
        }

        public RetryPolicy build() {
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("maxBackoff (" + maxBackoff + ") must not be below initialBackoff ("
                        + initialBackoff + ")");
            }
            return new RetryPolicy(this, d -> {
                long nanos = d.toNanos();
                if (nanos > 0) {
                    Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
                }
            }, () -> ThreadLocalRandom.current().nextDouble());
        }
    }
}
