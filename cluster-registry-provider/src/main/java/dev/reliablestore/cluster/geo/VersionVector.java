package dev.reliablestore.cluster.geo;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which writes of each site an entity's state includes: per site, a counter that the site's writes of
 * the entity raise. Two states are causally ordered when one vector is at least the other at every
 * site; otherwise they are concurrent — the only case that is a conflict. A per-site counter alone
 * cannot tell site A's fifth write from site B's.
 *
 * <p>A site raises its counter to at least the write's stamp ({@link #advance}), not by one: once a
 * site has collected an entity's tombstone it no longer knows how far its counter had gone, and a
 * re-created entity counting from 1 again would look to a site still holding the tombstone (or any
 * state with a higher count) like an old write it already includes — and a concurrent update there
 * would then be overwritten without being seen as a conflict. A site's stamps grow while its wall
 * clock does (and past every state a write replaces), so its counter does too, across deletes and
 * collections; a wall clock stepped back across a restart is the exception geo-replication.md states.
 *
 * <p>Immutable. Sites are few (a vector has one entry per site that ever wrote the entity), so a
 * sorted map is both small and deterministic to encode.
 */
final class VersionVector {

    /** The relation of one vector to another. */
    enum Order {
        EQUAL, BEFORE, AFTER, CONCURRENT
    }

    static final VersionVector EMPTY = new VersionVector(new TreeMap<>());
    /** Site names are at most this many UTF-8 bytes in the encoding. */
    static final int MAX_SITE_BYTES = 255;

    private final TreeMap<String, Long> counters;

    private VersionVector(TreeMap<String, Long> counters) {
        this.counters = counters;
    }

    long get(String site) {
        return counters.getOrDefault(site, 0L);
    }

    Map<String, Long> asMap() {
        return Collections.unmodifiableMap(counters);
    }

    /** This vector with one more write of {@code site}. */
    VersionVector increment(String site) {
        requireSite(site);
        TreeMap<String, Long> next = new TreeMap<>(counters);
        next.merge(site, 1L, Long::sum);
        return new VersionVector(next);
    }

    /**
     * This vector with a write of {@code site} stamped {@code stamp}: the site's counter becomes the
     * stamp, or one more than before if it was already as high (a state written before counters were
     * stamps, or a stamp of 0 for a value written before sites were configured).
     */
    VersionVector advance(String site, long stamp) {
        requireSite(site);
        TreeMap<String, Long> next = new TreeMap<>(counters);
        long before = next.getOrDefault(site, 0L);
        next.put(site, Math.max(before + 1, stamp));
        return new VersionVector(next);
    }

    /** The smallest vector at least both: what a state that has seen both includes. */
    VersionVector join(VersionVector other) {
        TreeMap<String, Long> next = new TreeMap<>(counters);
        other.counters.forEach((site, n) -> next.merge(site, n, Math::max));
        return new VersionVector(next);
    }

    /** How this vector relates to {@code other}. */
    Order compare(VersionVector other) {
        boolean less = false;
        boolean greater = false;
        TreeMap<String, Long> sites = new TreeMap<>(counters);
        other.counters.forEach((site, n) -> sites.putIfAbsent(site, 0L));
        for (String site : sites.keySet()) {
            long mine = get(site);
            long theirs = other.get(site);
            less |= mine < theirs;
            greater |= mine > theirs;
        }
        if (less && greater) {
            return Order.CONCURRENT;
        }
        return less ? Order.BEFORE : greater ? Order.AFTER : Order.EQUAL;
    }

    /** u8 count, then per site (in name order) u8 name length, the UTF-8 name and the counter as an unsigned varint. */
    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 + counters.size() * 8);
        out.write(counters.size());
        counters.forEach((site, n) -> {
            byte[] name = site.getBytes(StandardCharsets.UTF_8);
            out.write(name.length);
            out.write(name, 0, name.length);
            for (long v = n; ; v >>>= 7) {
                if ((v & ~0x7FL) == 0) {
                    out.write((int) v);
                    break;
                }
                out.write((int) (v & 0x7F) | 0x80);
            }
        });
        return out.toByteArray();
    }

    /**
     * @throws IllegalArgumentException the bytes are not an encoded vector (truncated, a counter of
     *                                  more than 63 bits, sites out of order or repeated)
     */
    static VersionVector decode(ByteBuffer in) {
        try {
            int count = Byte.toUnsignedInt(in.get());
            TreeMap<String, Long> counters = new TreeMap<>();
            String previous = null;
            for (int i = 0; i < count; i++) {
                byte[] name = new byte[Byte.toUnsignedInt(in.get())];
                in.get(name);
                String site = new String(name, StandardCharsets.UTF_8);
                if (site.isEmpty() || (previous != null && previous.compareTo(site) >= 0)) {
                    throw new IllegalArgumentException("version vector: site names empty, repeated or out of order at entry " + i);
                }
                long n = 0;
                for (int shift = 0; ; shift += 7) {
                    if (shift > 56) {
                        throw new IllegalArgumentException("version vector: counter of site " + site + " longer than 63 bits");
                    }
                    int b = Byte.toUnsignedInt(in.get());
                    n |= (long) (b & 0x7F) << shift;
                    if ((b & 0x80) == 0) {
                        break;
                    }
                }
                if (n <= 0) {
                    throw new IllegalArgumentException("version vector: counter of site " + site + " is " + n + ", must be positive");
                }
                counters.put(site, n);
                previous = site;
            }
            return new VersionVector(counters);
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("version vector: truncated");
        }
    }

    private void requireSite(String site) {
        if (site == null || site.isEmpty() || site.getBytes(StandardCharsets.UTF_8).length > MAX_SITE_BYTES) {
            throw new IllegalArgumentException("a site name has 1.." + MAX_SITE_BYTES + " UTF-8 bytes: " + site);
        }
        if (!counters.containsKey(site) && counters.size() == 255) {
            throw new IllegalArgumentException("a version vector holds at most 255 sites");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VersionVector v && v.counters.equals(counters);
    }

    @Override
    public int hashCode() {
        return counters.hashCode();
    }

    @Override
    public String toString() {
        return counters.toString();
    }
}
