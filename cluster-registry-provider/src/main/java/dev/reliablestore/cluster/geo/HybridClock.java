package dev.reliablestore.cluster.geo;

import java.time.Duration;
import java.time.Instant;
import java.util.function.LongSupplier;

/**
 * A hybrid logical clock (Kulkarni et al., 2014) for one site: timestamps that follow the wall clock
 * to the millisecond, never go backwards, and always exceed every timestamp the site has seen — so a
 * write made after observing another is stamped later than it, whatever the two sites' clocks say.
 *
 * <p>A timestamp is packed in a long: the physical part (milliseconds since the epoch) in the upper
 * 48 bits, a logical counter that orders events within one millisecond in the lower 16. Packed
 * timestamps compare as longs.
 *
 * <p>A remote timestamp whose physical part is ahead of this site's wall clock by more than the
 * maximum skew is refused ({@link ClockSkewException}) instead of being adopted: adopting it would
 * drag this site's clock — and last-writer-wins — that far into the future for good.
 */
final class HybridClock {

    static final int LOGICAL_BITS = 16;
    static final long LOGICAL_MASK = (1L << LOGICAL_BITS) - 1;
    /** The largest physical part that fits in 48 bits (year 10889). */
    static final long MAX_PHYSICAL = (1L << (63 - LOGICAL_BITS)) - 1;

    private final LongSupplier wallMillis;
    private final long maxSkewMillis;
    private long last;

    /**
     * @param wallMillis the wall clock, milliseconds since the epoch
     * @param maxSkew    how far ahead of this site's wall clock a remote timestamp may be
     */
    HybridClock(LongSupplier wallMillis, Duration maxSkew) {
        if (maxSkew.isNegative()) {
            throw new IllegalArgumentException("maxSkew must not be negative: " + maxSkew);
        }
        this.wallMillis = wallMillis;
        this.maxSkewMillis = maxSkew.toMillis();
    }

    /** How far ahead of this site's wall clock a remote timestamp may be, in ms. */
    long maxSkewMillis() {
        return maxSkewMillis;
    }

    /** The wall clock this clock follows, in ms. */
    long wallMillis() {
        return wallMillis.getAsLong();
    }

    static long physical(long timestamp) {
        return timestamp >>> LOGICAL_BITS;
    }

    static int logical(long timestamp) {
        return (int) (timestamp & LOGICAL_MASK);
    }

    static long pack(long physicalMillis, int logical) {
        if (physicalMillis < 0 || physicalMillis > MAX_PHYSICAL) {
            throw new IllegalArgumentException("physical time out of range: " + physicalMillis + " ms (0.." + MAX_PHYSICAL + ")");
        }
        if (logical < 0 || logical > LOGICAL_MASK) {
            throw new IllegalArgumentException("logical counter out of range: " + logical + " (0.." + LOGICAL_MASK + ")");
        }
        return physicalMillis << LOGICAL_BITS | logical;
    }

    /** For messages: {@code 2026-12-01T18:12:01.123Z+4}. */
    static String format(long timestamp) {
        return Instant.ofEpochMilli(physical(timestamp)) + "+" + logical(timestamp);
    }

    /** A timestamp for a local event: later than every timestamp issued or observed so far. */
    synchronized long tick() {
        long wall = pack(Math.max(0, wallMillis.getAsLong()), 0);
        // a full logical counter carries into the physical part: a millisecond ahead of the wall, never a repeat
        last = Math.max(wall, last + 1);
        return last;
    }

    /**
     * Takes a remote site's timestamp into account, so that later local events are stamped after it.
     *
     * @throws ClockSkewException its physical part is ahead of this site's wall clock by more than the
     *                            maximum skew; the clock is unchanged
     */
    synchronized void observe(long remote, String remoteSite) {
        long wall = wallMillis.getAsLong();
        long ahead = physical(remote) - wall;
        if (ahead > maxSkewMillis) {
            throw new ClockSkewException(remoteSite, format(remote), ahead, maxSkewMillis);
        }
        last = Math.max(last, remote);
    }

    /**
     * Takes a timestamp this site has already accepted into account without the skew check — the
     * stamp of a state a local write is about to replace (another site's once it has passed
     * {@link #observe}, see LocalWrites) — so a local write always sorts after what it overwrites,
     * even when the wall clock went backwards across a restart. (Nothing calls it with the highest
     * stamp in the store at start-up: geo-replication.md, Clock skew.)
     */
    synchronized void advanceTo(long accepted) {
        last = Math.max(last, accepted);
    }

    /** The latest timestamp issued or observed (0 before the first). */
    synchronized long last() {
        return last;
    }
}
