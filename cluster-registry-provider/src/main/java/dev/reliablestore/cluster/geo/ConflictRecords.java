package dev.reliablestore.cluster.geo;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.cluster.ConflictRecord;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A site's durable records of the cross-site conflicts it settled ({@code crossSiteConflicts =
 * ConflictRecord}): one value per conflict under {@code <root>/Sites/Conflicts/<Type>} — bookkeeping
 * below {@code <root>/Sites}, so never shipped — written in the registry batch that settles the
 * conflict (or, for a shipped batch too large to carry its records, ahead of it: see
 * {@link SiteTranslator}).
 *
 * <p>A record's name is the losing write's stamp and origin and a hash of the entity id
 * ({@code <clock hex>-<site>-<id hash>}): a write that lost twice at one site for one entity is one
 * conflict, so a translation done again writes the same record. Its value is sealed like an
 * entity's value (encrypted when the store is, bound to this site and to its name under the
 * pseudo-type {@code <Type>/conflict}, which no entity type can be), so it can be neither read nor
 * moved between names or sites without the keys. Inside: when it was settled, the versions before
 * and after, the id, the winner's stamp and the losing value; the losing stamp travels in the
 * envelope's header.
 */
final class ConflictRecords {

    private static final Logger LOG = LoggerFactory.getLogger(ConflictRecords.class);
    static final String KIND = "conflict";
    private static final int FORMAT = 1;
    private static final HexFormat HEX = HexFormat.of();

    private ConflictRecords() {
    }

    /** Where a site keeps its conflict records: one subkey per type. */
    static RegistryPath key(EntityStates states, String type) {
        return SiteReplication.conflictsKey(states.layout()).child(type);
    }

    /** The name of the record of {@code lost} losing on {@code id}. */
    static String name(SiteState lost, String id) {
        return String.format("%016x", lost.hlc()) + "-" + lost.origin() + "-" + HEX.formatHex(idHash(id));
    }

    private static byte[] idHash(String id) {
        try {
            return Arrays.copyOf(MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8)), 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * The command that keeps the record of {@code c} at {@code target}.
     *
     * @throws IllegalStateException the record does not fit one of the target's values (a losing
     *                               value at the size limit): the shipper stops rather than lose it
     */
    static BatchCommand write(EntityStates target, ClusterRegistry registry, SiteTranslator.Conflict c, long settledMillis) {
        return new BatchCommand.SetValue(key(target, c.type()), name(c.loser(), c.id()),
                RegistryValue.binary(seal(target, registry, c, settledMillis, KIND)));
    }

    /** The sealed record of {@code c}, of {@code kind} (a conflict record, or a merge waiting to be made: {@link PendingMerges}). */
    static byte[] seal(EntityStates target, ClusterRegistry registry, SiteTranslator.Conflict c, long settledMillis, String kind) {
        byte[] id = c.id().getBytes(StandardCharsets.UTF_8);
        byte[] kept = c.winner().stamp();
        byte[] lost = c.loser().value();
        ByteBuffer b = ByteBuffer.allocate(1 + 8 * 3 + 4 + id.length + 2 + kept.length + 1 + 1 + (lost == null ? 0 : lost.length));
        b.put((byte) FORMAT).putLong(settledMillis).putLong(c.storedVersion()).putLong(c.resultVersion());
        b.putInt(id.length).put(id);
        b.putShort((short) kept.length).put(kept).put((byte) (c.winner().deleted() ? 1 : 0));
        b.put((byte) (lost == null ? 1 : 0));
        if (lost != null) {
            b.put(lost);
        }
        String name = name(c.loser(), c.id());
        byte[] sealed = target.envelopes().sealRecord(c.type(), kind, name, b.array(), c.loser().stamp());
        int limit = registry.limits().maxValueSize();
        if (sealed.length > limit) {
            throw new IllegalStateException("the " + kind + " record of " + c.type() + "/" + c.id() + " at site " + c.targetSite() + " is "
                    + sealed.length + " bytes with the losing value, over the registry's value limit of " + limit
                    + " bytes; lower maxValueSizeKB below the registry's limit to leave room for conflict records");
        }
        return sealed;
    }

    /** The records {@code site} holds of {@code type}, oldest settled first. */
    static List<ConflictRecord> read(SiteReplication.Site site, String type) {
        return opened(site, type, values(site, type));
    }

    /** The records of {@code type} that {@code stored} holds (the values of its key at {@code site}), oldest settled first. */
    static List<ConflictRecord> opened(SiteReplication.Site site, String type, Map<String, VersionedValue> stored) {
        List<ConflictRecord> out = new ArrayList<>();
        for (Map.Entry<String, VersionedValue> v : stored.entrySet()) {
            out.add(open(site, type, v.getKey(), v.getValue(), KIND).record());
        }
        out.sort(Comparator.comparing(ConflictRecord::settled).thenComparing(r -> r.lost().stamped()));
        return out;
    }

    private static Map<String, VersionedValue> values(SiteReplication.Site site, String type) {
        try {
            return site.registry().values(key(site.states(), type));
        } catch (NoSuchKeyException none) {
            return Map.of();
        }
    }

    /** A record opened: what it says, and the stamps of the write it kept (without its value) and of the one it lost. */
    record Opened(ConflictRecord record, SiteState kept, SiteState lost) {
    }

    /** Opens a record of {@code kind}. */
    static Opened open(SiteReplication.Site site, String type, String name, VersionedValue stored, String kind) {
        String where = "the " + kind + " record " + name + " of " + type + " at site " + site.name();
        SiteEnvelopes.Opened opened = site.envelopes().openRecord(type, kind, name, stored.value().asBinary());
        try {
            ByteBuffer b = ByteBuffer.wrap(opened.json());
            int format = Byte.toUnsignedInt(b.get());
            if (format != FORMAT) {
                throw new DataIntegrityException(where + " has format " + format + "; this version reads " + FORMAT);
            }
            long settled = b.getLong();
            long storedVersion = b.getLong();
            long resultVersion = b.getLong();
            byte[] id = new byte[length(b, b.getInt(), where)];
            b.get(id);
            byte[] keptStamp = new byte[length(b, Short.toUnsignedInt(b.getShort()), where)];
            b.get(keptStamp);
            boolean keptDeleted = b.get() != 0;
            boolean lostDeleted = b.get() != 0;
            byte[] lostValue = lostDeleted ? null : Arrays.copyOfRange(b.array(), b.position(), b.limit());
            SiteState kept = SiteState.stamped(keptDeleted ? null : new byte[0], keptStamp);
            SiteState lost = SiteState.stamped(lostValue, opened.stamp());
            String entityId = new String(id, StandardCharsets.UTF_8);
            if (!name.equals(name(lost, entityId))) {
                throw new DataIntegrityException(where + " names another write or entity than it holds");
            }
            return new Opened(new ConflictRecord(type, entityId, site.name(), Instant.ofEpochMilli(settled),
                    new ConflictRecord.Kept(kept.origin(), Instant.ofEpochMilli(HybridClock.physical(kept.hlc())), keptDeleted),
                    new StoreEvent.SiteWrite(lost.origin(), Instant.ofEpochMilli(HybridClock.physical(lost.hlc())), Optional.ofNullable(lostValue)),
                    storedVersion, resultVersion), kept, lost);
        } catch (BufferUnderflowException | IllegalArgumentException bad) {
            throw new DataIntegrityException(where + " is malformed: " + bad.getMessage());
        }
    }

    /** When the losing write of the record named {@code name} was made, from its name; -1 when the name is not a record's. */
    private static long lostMillis(String name) {
        try {
            return name.length() > 16 && name.charAt(16) == '-' ? HybridClock.physical(Long.parseUnsignedLong(name.substring(0, 16), 16)) : -1;
        } catch (NumberFormatException notOurs) {
            return -1;
        }
    }

    /** A length read from a record, checked against what is left of it before anything is allocated. */
    private static int length(ByteBuffer b, int length, String where) {
        if (length < 0 || length > b.remaining()) {
            throw new DataIntegrityException(where + " is malformed: a field of " + length + " bytes, " + b.remaining() + " left");
        }
        return length;
    }

    /**
     * Removes {@code site}'s records settled longer than {@code window} ago, each on the condition
     * that it is still the one read. A record that cannot be opened (its key retired, say) is kept
     * and logged. Returns how many it removed.
     */
    static int collect(SiteReplication.Site site, Duration window, long nowMillis) {
        ClusterRegistry registry = site.registry();
        long before = nowMillis - window.toMillis();
        List<String> types;
        try {
            types = registry.subkeys(SiteReplication.conflictsKey(site.layout()));
        } catch (NoSuchKeyException none) {
            return 0;
        }
        ConditionalRemovals removals = new ConditionalRemovals(registry);
        for (String type : types) {
            RegistryPath key = key(site.states(), type);
            for (Map.Entry<String, VersionedValue> v : values(site, type).entrySet()) {
                ConflictRecord r;
                try {
                    r = open(site, type, v.getKey(), v.getValue(), KIND).record();
                } catch (DataIntegrityException unreadable) {
                    // settled no earlier than the losing write was made (the stamp its name starts with): once that is
                    // older than the window, so is the settling; else it is kept, and conflictRecords() says so
                    long lostAt = lostMillis(v.getKey());
                    if (lostAt >= 0 && lostAt < before) {
                        removals.remove(key, v.getKey(), v.getValue().revision());
                    } else {
                        LOG.warn("site {}: kept a conflict record that cannot be read: {}", site.name(), unreadable.getMessage());
                    }
                    continue;
                }
                if (r.settled().toEpochMilli() < before) {
                    removals.remove(key, v.getKey(), v.getValue().revision());
                }
            }
        }
        return removals.finish();
    }
}
