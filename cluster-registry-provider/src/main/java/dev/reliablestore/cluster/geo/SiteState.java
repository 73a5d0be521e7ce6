package dev.reliablestore.cluster.geo;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One entity's replicated state at a site: its stored bytes ({@code null} once deleted — a
 * tombstone, kept so that a delete can win or lose against a concurrent write like any other
 * write), the stamp of the write that produced it — its hybrid-logical-clock timestamp and its
 * origin site — and the vector of every write the state includes.
 *
 * <p>Stamps are unique per write (a site's clock never repeats a timestamp) and totally ordered:
 * timestamp first, then the origin site's name, so every site picks the same winner between two
 * concurrent writes whatever order it learns of them in.
 *
 * @param value  the stored bytes, or {@code null} for a tombstone
 * @param hlc    the write's packed {@link HybridClock} timestamp
 * @param origin the site that made the write
 * @param vector the writes included, per site
 */
record SiteState(byte[] value, long hlc, String origin, VersionVector vector) {

    SiteState {
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(vector, "vector");
        if (hlc != 0 && vector.get(origin) == 0) {
            throw new IllegalArgumentException("the vector of a write by " + origin + " must count it: " + vector);
        }
    }

    /** The first byte of an encoded stamp. */
    static final int STAMP_FORMAT = 1;

    /**
     * The stamp a value carries in its envelope: format byte 1, the clock (8 bytes, big-endian), the
     * origin (u8 length, UTF-8), then the vector ({@link VersionVector#encode}).
     */
    byte[] stamp() {
        byte[] site = origin.getBytes(StandardCharsets.UTF_8);
        byte[] v = vector.encode();
        return ByteBuffer.allocate(1 + 8 + 1 + site.length + v.length).put((byte) STAMP_FORMAT).putLong(hlc)
                .put((byte) site.length).put(site).put(v).array();
    }

    /**
     * The stamp a value from before sites were configured is sealed with at {@code site}: time zero, by that site,
     * counted once — the form earlier builds wrote and can read (they refuse a vector that does not count its origin),
     * which this build reads as the shared time-zero write ({@link #unstamped}) all the same.
     */
    static byte[] timeZeroStamp(String site) {
        return new SiteState(null, 0, site, VersionVector.EMPTY.increment(site)).stamp();
    }

    /**
     * The state of {@code value} (null: a tombstone) carrying {@code stamp}.
     *
     * @throws IllegalArgumentException the stamp is not one {@link #stamp()} wrote
     */
    static SiteState stamped(byte[] value, byte[] stamp) {
        try {
            ByteBuffer in = ByteBuffer.wrap(stamp);
            int format = Byte.toUnsignedInt(in.get());
            if (format != STAMP_FORMAT) {
                throw new IllegalArgumentException("stamp format " + format + " is unknown; this version reads " + STAMP_FORMAT);
            }
            long hlc = in.getLong();
            byte[] site = new byte[Byte.toUnsignedInt(in.get())];
            in.get(site);
            VersionVector vector = VersionVector.decode(in);
            if (in.hasRemaining()) {
                throw new IllegalArgumentException("stamp has " + in.remaining() + " bytes after its vector");
            }
            if (hlc == 0) {
                // re-sealed from before sites were configured (earlier builds stamped it as the holding site's): time zero
                return unstamped(value);
            }
            return new SiteState(value, hlc, new String(site, StandardCharsets.UTF_8), vector);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("stamp is truncated (" + stamp.length + " bytes)");
        }
    }

    /**
     * The origin of {@link #unstamped} states: no site's name (site names are never empty), so
     * nothing a site writes shares it.
     */
    static final String BEFORE_SITES = "";

    /**
     * The state of a value written before sites were configured: time zero, by no site, with an
     * empty vector — the same write at every site that holds it. Sites seeded from one copy hold
     * it alike, so a write made on top of it at one site overwrites a state every other site holds
     * too and is no conflict there; any write made since sites were configured includes it and wins.
     */
    static SiteState unstamped(byte[] value) {
        return new SiteState(value, 0, BEFORE_SITES, VersionVector.EMPTY);
    }

    /**
     * Whether this is the state of a value written before sites were configured: a clock never
     * issues timestamp 0 (its first tick is at least 1), so only {@link #unstamped} states have it.
     */
    boolean unstamped() {
        return hlc == 0;
    }

    boolean deleted() {
        return value == null;
    }

    /** The order of last-writer-wins: by timestamp, ties (two sites in the same tick) by site name. */
    int compareStamp(SiteState other) {
        int byTime = Long.compare(hlc, other.hlc);
        return byTime != 0 ? byTime : origin.compareTo(other.origin);
    }

    /**
     * The state after {@code site} writes {@code value} (or deletes, with null) on top of
     * {@code current} ({@code null} if the entity never existed there).
     */
    static SiteState write(SiteState current, byte[] value, String site, HybridClock clock) {
        if (current != null) {
            clock.advanceTo(current.hlc);
        }
        return after(current, value, site, clock.tick());
    }

    /**
     * The state after {@code site} writes {@code value} (null: deletes) on top of {@code current}
     * (null if none) at timestamp {@code hlc}, which the caller took after {@code current}'s.
     */
    static SiteState after(SiteState current, byte[] value, String site, long hlc) {
        VersionVector base = current == null ? VersionVector.EMPTY : current.vector;
        return new SiteState(value == null ? null : value.clone(), hlc, site, base.advance(site, hlc));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SiteState s && hlc == s.hlc && origin.equals(s.origin) && vector.equals(s.vector) && Arrays.equals(value, s.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(hlc, origin, vector, Arrays.hashCode(value));
    }

    @Override
    public String toString() {
        return "SiteState[" + (value == null ? "deleted" : value.length + " bytes") + " at " + HybridClock.format(hlc) + " by " + origin + ", " + vector + "]";
    }
}
