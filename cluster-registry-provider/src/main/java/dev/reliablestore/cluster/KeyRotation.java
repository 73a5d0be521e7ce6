package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.cluster.EntityRecords.Stored;
import dev.reliablestore.cluster.geo.SiteEnvelopes;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Key rotation for one entity type: which keys its envelopes are encrypted with, and rewriting
 * those that are not under the active key (or not encrypted) without changing their versions.
 */
final class KeyRotation {

    private final ClusterStoreFactory factory;
    private final EntityRecords records;
    private final EnvelopeCodec envelopes;
    private final Rewritten rewritten;
    private final Runnable onRetry;

    /** Told each entity whose envelope was replaced: same value and version, the revision of the rewrite. */
    interface Rewritten {
        void rewritten(String id, EntityValues.Decoded value, long sequence);
    }

    /** {@code rewritten} is told each entity whose envelope was replaced (the store's cache takes its new revision). */
    KeyRotation(ClusterStoreFactory factory, EntityRecords records, Rewritten rewritten, Runnable onRetry) {
        this.factory = factory;
        this.records = records;
        this.envelopes = factory.envelopeCodec();
        this.rewritten = rewritten;
        this.onRetry = onRetry;
    }

    /**
     * Rewrites under the active key every envelope encrypted with another key, or, with {@code inClear},
     * every envelope stored in clear; returns how many were rewritten. Never both in one call: a value in
     * clear is authenticated only when the caller asks, since it may have been planted by someone who
     * can write the registry but has no key.
     *
     * @throws PersistenceException with {@code outcomeUnknown()} (values were rewritten) and the
     *                              {@link EntityTooLargeException} of the first value larger than the
     *                              registry takes once sealed as its cause, after every other value was rewritten
     */
    long rewrite(String store, boolean inClear) {
        if (!envelopes.encrypts()) {
            throw new IllegalStateException("encryption is not enabled for " + store + "; there is nothing to re-encrypt with");
        }
        String type = records.typeName();
        String active = envelopes.keys().activeKeyId();
        // the same decision for the type's dictionaries stored in clear; one that stays in clear does not keep the values from
        // being encrypted (they are read with it either way), but the call then fails after them
        PersistenceException dictionaryInClear = inClear ? factory.dictionaries().sealInClear(type) : null;
        long count = 0;
        EntityTooLargeException unsealable = null;
        // a value that cannot be opened (damaged, or an envelope copied from another place): skipped as an unsealable one
        // is, or one such value, planted under an id that sorts first, would keep every other under the old key for good
        dev.reliablestore.api.DataIntegrityException unopenable = null;
        long left = 0;
        boolean sawEncrypted = false;
        boolean marked = false;
        for (Map.Entry<String, Stored> stored : records.all().entities().entrySet()) {
            String id = stored.getKey();
            Stored s = stored.getValue();
            EnvelopeCodec.Header h;
            SiteEnvelopes.Opened opened;
            try {
                h = EnvelopeCodec.header(s.envelope(), records.where(id));
                sawEncrypted |= h.encrypted();
                if (!rewrites(h, active, inClear)) {
                    continue;
                }
                opened = h.encrypted() ? envelopes.open(type, id, s.version(), s.envelope())
                        : new EnvelopeCodec(factory.layout().root().toString(), false, factory.dictionaries(), null)
                        .open(type, id, s.version(), s.envelope());
            } catch (dev.reliablestore.api.DataIntegrityException damaged) {
                if (unopenable == null) {
                    unopenable = damaged;
                }
                left++;
                continue;
            }
            byte[] plain = opened.json();
            // a stamped value keeps its cross-site stamp and the site it is bound to; maxValueSizeKB limits saves, not
            // values already stored (saved under a larger setting, or a few bytes over once sealed): the registry's limit holds
            EnvelopeCodec.Encoded enc;
            try {
                enc = envelopes.encodeAtMost(factory.registry().limits().maxValueSize(), type, id, s.version(), plain, h.site(),
                        opened.stamp());
            } catch (EntityTooLargeException tooLarge) {
                // one value that cannot be sealed must not keep every value after it under the old key on every run
                if (unsealable == null) {
                    unsealable = tooLarge;
                }
                left++;
                continue;
            }
            WriteBatch.Builder b = WriteBatch.builder().requireRevision(records.versionsKey(), id, s.revision());
            records.put(b, id, s.version(), enc.envelope());
            try {
                // a rewrite whose answer was lost and which landed is found by its envelope (its nonce makes it unique)
                long sequence = factory.gateway().commit(RegistryGateway.Commit.replicated("re-encryption of " + records.where(id),
                        b.build()).of(type, 1).landedIf(() -> records.landedAt(List.of(id), i -> enc.envelope())).countingRetries(onRetry));
                rewritten.rewritten(id, new EntityValues.Decoded(plain, s.version(), sequence), sequence);
                count++;
                if (!marked) {
                    // before the audit, which may throw: the type holds an encrypted value from this rewrite on
                    marked = TypeDescriptor.markEncrypted(factory, type);
                }
                factory.audit("reencrypt", type, List.of(id), List.of(s.version()), null);
            } catch (ConditionFailedException changed) {
                // rewritten by a writer meanwhile, which used the active key
            }
        }
        count += rewriteTombstones(type, active, inClear);
        if ((inClear || sawEncrypted) && !marked) {
            // the type holds encrypted values (or now holds only those): a factory without keys may no longer write it
            TypeDescriptor.markEncrypted(factory, type);
        }
        if (unopenable != null || unsealable != null) {
            // values were rewritten: the value's own exception alone would say nothing was
            PersistenceException cause = unopenable != null ? unopenable : unsealable;
            PersistenceException partly = new PersistenceException((inClear ? "encryption of the values in clear of " : "re-encryption of ")
                    + type + " rewrote " + count + " values (and tombstones) under key " + active + " but left " + left + " as "
                    + (left == 1 ? "it was" : "they were") + (unopenable != null ? ", which cannot be opened (the first: "
                    + unopenable.getMessage() + ")" + (unsealable != null ? " or are larger than the registry takes once sealed" : "")
                    : ", which are larger than the registry takes once sealed: " + unsealable.getMessage()), cause, true);
            if (unopenable != null && unsealable != null) {
                partly.addSuppressed(unsealable);
            }
            if (dictionaryInClear != null) {
                partly.addSuppressed(dictionaryInClear);
            }
            throw partly;
        }
        if (dictionaryInClear != null) {
            throw new PersistenceException("encryption of the values in clear of " + type + " encrypted " + count + " values (and"
                    + " tombstones) under key " + active + ", but " + dictionaryInClear.getMessage() + "; run it again",
                    dictionaryInClear, true);
        }
        return count;
    }

    private static boolean rewrites(EnvelopeCodec.Header h, String active, boolean inClear) {
        return inClear ? !h.encrypted() : h.encrypted() && !active.equals(h.keyId());
    }

    /** A multi-site store's tombstones are sealed like values: rewritten the same way, with their stamps. */
    private long rewriteTombstones(String type, String active, boolean inClear) {
        long count = 0;
        for (Map.Entry<String, VersionedValue> t : records.tombstones().entrySet()) {
            String id = t.getKey();
            byte[] sealed = t.getValue().value().asBinary();
            EnvelopeCodec.Header h = EnvelopeCodec.header(sealed, records.where(id) + " (tombstone)");
            if (!rewrites(h, active, inClear)) {
                continue;
            }
            SiteEnvelopes.Opened opened = (h.encrypted() ? envelopes
                    : new EnvelopeCodec(factory.layout().root().toString(), false, null, null))
                    .open(type, id, StorageLayout.TOMBSTONE_VERSION, sealed);
            EnvelopeCodec.Encoded enc = envelopes.encodeBound(type, id, StorageLayout.TOMBSTONE_VERSION, opened.json(), h.site(),
                    opened.stamp());
            WriteBatch b = WriteBatch.builder().requireRevision(records.tombstonesKey(), id, t.getValue().revision())
                    .setValue(records.tombstonesKey(), id, RegistryValue.binary(enc.envelope())).build();
            try {
                factory.gateway().commit(RegistryGateway.Commit.replicated("re-encryption of the tombstone of " + records.where(id), b)
                        .of(type, 1).landedIf(() -> tombstoneLandedAt(id, enc.envelope())).countingRetries(onRetry));
                count++;
                factory.audit("reencrypt", type, List.of(id), List.of(StorageLayout.TOMBSTONE_VERSION), null);
            } catch (ConditionFailedException changed) {
                // replaced meanwhile (the entity written again, or a newer delete), under the active key
            }
        }
        return count;
    }

    private OptionalLong tombstoneLandedAt(String id, byte[] sealed) {
        return factory.gateway().value("read of the tombstone of " + records.where(id), records.tombstonesKey(), id)
                .filter(now -> Arrays.equals(now.value().asBinary(), sealed)).map(now -> OptionalLong.of(now.revision())).orElse(OptionalLong.empty());
    }

    /**
     * Envelopes, a multi-site store's tombstones and owed merges, the type's zstd dictionaries and the
     * envelopes of prepared transactions per key id ({@code ""}: not encrypted). The dictionaries count: a value
     * compressed with one sealed under a retired key could not be read, although its own envelope is
     * under the active key. Prepared envelopes count: their commit writes them as they were sealed,
     * and they cannot be rewritten before it.
     */
    Map<String, Long> keyUsage() {
        return KeyUsage.of(factory.gateway(), factory.layout(), records.typeName());
    }
}
