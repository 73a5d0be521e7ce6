package dev.reliablestore.cluster;

import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.NodeOperationRefusedException;
import dev.reliablestore.registry.RegistryClosedException;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryStoppedException;
import dev.reliablestore.registry.RegistryUnavailableException;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Runs a registry call, retrying only retryable failures ({@link RegistryUnavailableException},
 * too few live nodes) with exponential backoff: the first wait is {@code retryDelay}, each later one
 * twice the previous (±10 % jitter), at most {@code maxRetries} retries, and never past
 * {@code failoverTimeout} counted from the first attempt. The error after giving up says what was
 * tried, how many times, for how long, and the last cause. A registry that stopped after a failed
 * write ({@link RegistryStoppedException}) fails at once: no retry can succeed before it is reopened.
 * Nor is a call whose thread was interrupted (by the attempt, or during the pause before the next
 * one) retried: its error says so, and the interrupt is kept. A pause would not wait while the
 * flag is set, so every retry would be sent at once, and the caller asked to stop.
 */
final class Retrier {

    /** A retryable condition found by the provider itself (e.g. MinimumNodes not met). */
    static final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unavailable(String message) {
            super(message, null, false, false);
        }
    }

    private final int maxRetries;
    private final long retryDelayNanos;
    private final long failoverTimeoutNanos;
    private final Duration failoverTimeout;
    private final String registryName;

    Retrier(int maxRetries, Duration retryDelay, Duration failoverTimeout, String registryName) {
        this.maxRetries = maxRetries;
        this.retryDelayNanos = retryDelay.toNanos();
        this.failoverTimeoutNanos = failoverTimeout.toNanos();
        this.failoverTimeout = failoverTimeout;
        this.registryName = registryName;
    }

    /**
     * @param onRetry called before each retry (metrics)
     */
    <R> R call(String what, Supplier<R> call, Runnable onRetry) {
        return call(what, call, onRetry, null, System.nanoTime());
    }

    /**
     * As {@link #call(String, Supplier, Runnable)}, continuing after a first attempt made elsewhere
     * (an asynchronous one) that started at {@code startNanos} and failed with {@code firstFailure}:
     * that failure counts as attempt 1, is mapped and retried like any other.
     */
    <R> R call(String what, Supplier<R> call, Runnable onRetry, RuntimeException firstFailure, long startNanos) {
        long start = startNanos;
        long delay = retryDelayNanos;
        int attempts = 0;
        // an attempt that was sent and lost its answer may have landed, whatever later attempts did
        int unknownAttempt = 0;
        RuntimeException pending = firstFailure;
        while (true) {
            RuntimeException cause;
            attempts++;
            try {
                if (pending != null) {
                    RuntimeException first = pending;
                    pending = null;
                    throw first;
                }
                return call.get();
            } catch (RegistryUnavailableException | Unavailable e) {
                cause = e;
            } catch (RegistryClosedException e) {
                if (unknownAttempt > 0) {
                    // "closed" alone would read as "not written"
                    throw new StoreUnavailableException(what + " failed: the registry connection " + registryName + " was closed before"
                            + " the outcome of write attempt " + unknownAttempt + " was known (it was sent and its answer lost, so the"
                            + " write may have been applied); read the entity after opening the store again", e, true);
                }
                throw new StoreClosedException("the registry connection " + registryName);
            } catch (RegistryCorruptedException e) {
                throw new PersistenceException(what + " failed: the registry's durable state is damaged: " + e.getMessage()
                        + earlierUnknown(unknownAttempt), e, unknownAttempt > 0);
            } catch (RegistryStoppedException e) {
                throw new PersistenceException(what + " failed and was not retried: " + e.getMessage()
                        + (e.outcomeUnknown() ? " (the outcome of this write is unknown)" : "") + earlierUnknown(unknownAttempt)
                        + "; for a store factory that opened the registry, reopening means closing the factory and opening it again", e,
                        e.outcomeUnknown() || unknownAttempt > 0);
            } catch (RegistryException e) {
                if (unknownAttempt > 0 && !hasItsOwnMapping(e)) {
                    // e.g. an ACL or authentication refusal on reconnecting: the gateway's "failed" would read as "not written"
                    throw new PersistenceException(what + " failed: " + e.getMessage() + earlierUnknown(unknownAttempt), e, true);
                }
                throw e;
            }
            if (cause instanceof RegistryUnavailableException r && r.outcomeUnknown()) {
                unknownAttempt = attempts;
            }
            if (Thread.currentThread().isInterrupted()) {
                throw interrupted(what, cause, attempts, unknownAttempt, start);
            }
            long elapsed = System.nanoTime() - start;
            long remaining = failoverTimeoutNanos - elapsed;
            // the last pause is what is left of failoverTimeout, so a failover that ends within it is still met by an attempt
            long jittered = delay == 0 ? 0 : Math.min((long) (delay * (0.9 + 0.2 * ThreadLocalRandom.current().nextDouble())), remaining);
            boolean outOfRetries = attempts > maxRetries;
            boolean outOfTime = remaining <= 0;
            if (outOfRetries || outOfTime) {
                String unknown = unknownAttempt == attempts ? "; the outcome of the last write attempt is unknown" : earlierUnknown(unknownAttempt);
                throw new StoreUnavailableException(what + " failed: " + cause.getMessage() + "; gave up after " + attempts
                        + " attempt(s) over " + Duration.ofNanos(elapsed).toMillis() + " ms ("
                        + (outOfRetries ? "maxRetries=" + maxRetries + " reached" : "failoverTimeout=" + failoverTimeout + " has passed")
                        + ")" + unknown, cause, unknownAttempt > 0);
            }
            if (jittered > 0) {
                LockSupport.parkNanos(jittered);
                if (Thread.currentThread().isInterrupted()) { // during the pause: the next attempt is not sent
                    throw interrupted(what, cause, attempts, unknownAttempt, start);
                }
            }
            onRetry.run();
            delay = Math.min(delay * 2, failoverTimeoutNanos);
        }
    }

    /**
     * The error of a retryable failure not retried because the calling thread was interrupted (the
     * flag stays set): a {@link StoreUnavailableException} as after giving up, with the attempt's
     * error as its cause, and whether a write may have landed.
     */
    private StoreUnavailableException interrupted(String what, RuntimeException cause, int attempts, int unknownAttempt, long start) {
        String unknown = unknownAttempt == attempts ? "; the outcome of the last write attempt is unknown" : earlierUnknown(unknownAttempt);
        return new StoreUnavailableException(what + " failed: " + cause.getMessage() + "; not retried because the calling thread was"
                + " interrupted (after " + attempts + " attempt(s) over " + Duration.ofNanos(System.nanoTime() - start).toMillis() + " ms)"
                + unknown, cause, unknownAttempt > 0);
    }

    /**
     * Errors the gateway maps to their own answer after a lost one too (a lost condition it checks
     * against what landed). A refusal before sending (too large, invalid) is not among them: the
     * retry is planned anew (another log entry name, another size) and may be refused where the
     * lost attempt was sent, so "not written" would be wrong.
     */
    private static boolean hasItsOwnMapping(RegistryException e) {
        return e instanceof ConditionFailedException || e instanceof NoSuchKeyException || e instanceof FeedHistoryUnavailableException || e instanceof NodeOperationRefusedException;
    }

    /** What an error that is not about the outcome must still say when an earlier attempt's answer was lost: it may have landed. */
    private static String earlierUnknown(int unknownAttempt) {
        return unknownAttempt == 0 ? "" : "; the outcome of write attempt " + unknownAttempt
                + " is unknown (it was sent and its answer lost, so the write may have been applied)";
    }
}
