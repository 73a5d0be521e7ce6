package dev.reliablestore.cluster;

import com.github.luben.zstd.Zstd;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Per-type zstd dictionaries kept in the registry under {@code Configuration/Dictionaries/<Type>/<n>}.
 *
 * <p>Training: once {@link #SAMPLES_TO_TRAIN} JSON documents of a type without a dictionary have
 * been written through this factory, a dictionary of at most {@link #DICTIONARY_BYTES} bytes is
 * trained in the background and stored as id {@code max+1} under a "value absent" condition, so two
 * nodes training at once cannot overwrite each other; the loser adopts the winner's. Dictionaries
 * are never deleted and their content never changes, so the id recorded in an envelope always finds
 * its bytes; readers load an id they do not know from the registry on first use.
 *
 * <p>Confidentiality: a trained dictionary is made of fragments of the entities' plaintext JSON. In
 * an encrypting store it is therefore stored <em>sealed</em> — an AES-256-GCM envelope bound to the
 * storage root, the type and the dictionary id ({@link #sealWith}) — never in clear. A dictionary
 * sealed under another key than the active one is rewritten sealed under the active key (same
 * content, conditional on its revision) when it is loaded, so that after a rotation no dictionary
 * depends on a retired key. One stored in clear (by an older version, or before encryption was
 * switched on; or planted) is read for the values that use it, never used for new ones, and sealed
 * only by {@link #sealInClear} (the store's encryptValuesInClear()). A dictionary this
 * factory cannot open (sealed, without the right key) is skipped, and only values that use it fail.
 */
final class DictionaryManager implements CompressionDictionary.Lookup {

    private static final Logger LOG = LoggerFactory.getLogger(DictionaryManager.class);

    static final int SAMPLES_TO_TRAIN = 256;
    static final int MAX_SAMPLES = 4096;
    static final int MAX_SAMPLE_BYTES = 16 * 1024;
    /**
     * zstd sizes a dictionary's match tables by its size plus 500 bytes: up to 16 KiB it takes the
     * small-input row (192 KiB of tables at level 3), a 16 KiB dictionary the next (768 KiB). A
     * 1 KB value compressed between two fsyncs finds those tables out of the CPU cache, and the
     * smaller ones cost it fewer misses (DictionaryTablesBench); values come out 0.6 % larger.
     */
    static final int DICTIONARY_BYTES = 15 * 1024;

    private final RegistryGateway gateway;
    private final StorageLayout layout;
    private final boolean trainAndUse;
    private final Executor background;
    private final Map<String, TypeDictionaries> types = new ConcurrentHashMap<>();
    /** Seals and opens stored dictionaries when the store encrypts; null: stored in clear. */
    private volatile EnvelopeCodec sealer;

    private final class TypeDictionaries {
        final String type;
        final Map<Integer, CompressionDictionary> byId = new ConcurrentHashMap<>();
        /**
         * Ids stored in clear in a store that seals: read for the values that use them, never made current. Someone
         * who can write the registry but holds no key could have planted one, and new values compressed with a
         * dictionary of their choosing would tell them by their sizes what the values hold.
         */
        final Set<Integer> inClear = ConcurrentHashMap.newKeySet();
        volatile CompressionDictionary current;
        /** Highest id stored, readable or not: a new dictionary never reuses an id. */
        volatile int maxStoredId;
        final List<byte[]> samples = new ArrayList<>();
        int target = SAMPLES_TO_TRAIN;
        final AtomicBoolean training = new AtomicBoolean();

        TypeDictionaries(String type) {
            this.type = type;
        }
    }

    /** False for a factory that only checks (a tool's verify): loading a dictionary never writes it back. */
    private volatile boolean resealOnLoad = true;

    /** Loading a dictionary will not reseal it: for a factory whose reads must not change the store. */
    void neverReseal() {
        resealOnLoad = false;
    }

    DictionaryManager(RegistryGateway gateway, StorageLayout layout, boolean trainAndUse, Executor background) {
        this.gateway = gateway;
        this.layout = layout;
        this.trainAndUse = trainAndUse;
        this.background = background;
    }

    /**
     * Stores dictionaries sealed with {@code sealer} (an encrypting codec without compression) and
     * opens sealed ones with it. Called once, before any type is opened, by the encrypting
     * {@link EnvelopeCodec} this manager serves.
     */
    void sealWith(EnvelopeCodec sealer) {
        if (!sealer.encrypts()) {
            throw new IllegalArgumentException("a dictionary sealer must encrypt");
        }
        this.sealer = sealer;
    }

    /** Loads the stored dictionaries of a type (called when its store opens). */
    void open(String type) {
        TypeDictionaries t = types.computeIfAbsent(type, TypeDictionaries::new);
        reload(t);
    }

    /** The type's stored dictionaries by id (values of other names are not dictionaries). */
    private Map<Integer, VersionedValue> stored(String type) {
        Map<Integer, VersionedValue> byId = new java.util.TreeMap<>();
        gateway.values("listing of the zstd dictionaries of " + type, layout.dictionaries(type)).orElse(Map.of()).forEach((name, v) -> {
            try {
                byId.put(Integer.parseInt(name), v);
            } catch (NumberFormatException foreign) {
                // not a dictionary
            }
        });
        return byId;
    }

    /** Loads what this factory does not know yet and picks the current dictionary; returns the listing it read. */
    private Map<Integer, VersionedValue> reload(TypeDictionaries t) {
        Map<Integer, VersionedValue> stored = stored(t.type);
        for (Map.Entry<Integer, VersionedValue> e : stored.entrySet()) {
            int id = e.getKey();
            t.maxStoredId = Math.max(t.maxStoredId, id);
            CompressionDictionary known = t.byId.get(id);
            if (known == null) {
                try {
                    CompressionDictionary d = load(t.type, id, e.getValue());
                    if (storedInClear(e.getValue().value())) {
                        t.inClear.add(id);
                    }
                    t.byId.putIfAbsent(id, d);
                } catch (DataIntegrityException unreadable) {
                    LOG.warn("zstd dictionary {} of {} is skipped: {}", id, t.type, unreadable.getMessage());
                }
            } else if (t.inClear.contains(id) && !storedInClear(e.getValue().value())) {
                // sealed since (encryptValuesInClear, here or on another node): its authenticated bytes replace what was
                // read in clear, and only then may it be current
                try {
                    t.byId.put(id, load(t.type, id, e.getValue()));
                    t.inClear.remove(id);
                } catch (DataIntegrityException unreadable) {
                    LOG.warn("zstd dictionary {} of {} is skipped: {}", id, t.type, unreadable.getMessage());
                }
            } else if (resealOnLoad && sealedUnderAnotherKey(t.type, e.getValue().value())) {
                // loaded before, and its reseal then failed (or another node wrote it under an older key): try again now
                resealOrLeave(t.type, id, e.getValue().revision(), known.bytes());
            }
        }
        t.byId.keySet().stream().filter(id -> !t.inClear.contains(id)).max(Integer::compare).ifPresent(max -> {
            CompressionDictionary c = t.current;
            if (c == null || c.id() < max) {
                t.current = t.byId.get(max);
            }
        });
        return stored;
    }

    /** Opens a stored dictionary; reseals it under the active key when it is sealed under another key. */
    private CompressionDictionary load(String type, int id, VersionedValue stored) {
        RegistryValue value = stored.value();
        if (value.type() != ValueType.BINARY) {
            throw new DataIntegrityException("dictionary " + id + " of " + type + " is a " + value.type() + " value, not BINARY");
        }
        byte[] raw = value.unsafeData();
        EnvelopeCodec s = sealer;
        byte[] bytes;
        boolean reseal;
        // a trained zstd dictionary starts with its own magic (0xEC30A437, little-endian), never with the envelope's
        if (raw.length > 0 && raw[0] == EnvelopeCodec.MAGIC) {
            if (s == null) {
                throw new DataIntegrityException("dictionary " + id + " of " + type + " is encrypted but encryption is not enabled for this store");
            }
            bytes = s.decode(sealedType(type), Integer.toString(id), SEALED_VERSION, raw);
            reseal = !s.keys().activeKeyId().equals(EnvelopeCodec.header(raw, type).keyId());
        } else {
            bytes = raw;
            reseal = false; // in clear in a store that seals: only encryptValuesInClear() makes it authentic (see inClear)
        }
        CompressionDictionary d;
        try {
            d = CompressionDictionary.of(id, bytes, EnvelopeCodec.COMPRESSION_LEVEL);
        } catch (RuntimeException e) {
            throw new DataIntegrityException("dictionary " + id + " of " + type + " cannot be loaded (" + e.getClass().getSimpleName() + ")");
        }
        if (reseal && resealOnLoad) {
            resealOrLeave(type, id, stored.revision(), bytes);
        }
        return d;
    }

    /** Whether a stored dictionary is in clear in a store that seals. */
    private boolean storedInClear(RegistryValue value) {
        byte[] raw = value.unsafeData();
        return sealer != null && value.type() == ValueType.BINARY && (raw.length == 0 || raw[0] != EnvelopeCodec.MAGIC);
    }

    /**
     * Seals under the active key the type's dictionaries stored in clear, as {@code encryptValuesInClear()} does the
     * values: they are then used for new values again.
     *
     * @return null, or why one of them is still in clear (the first failure to seal one)
     */
    PersistenceException sealInClear(String type) {
        TypeDictionaries t = types.computeIfAbsent(type, TypeDictionaries::new);
        PersistenceException failed = null;
        for (Map.Entry<Integer, VersionedValue> e : reload(t).entrySet()) {
            int id = e.getKey();
            CompressionDictionary d = t.byId.get(id);
            if (d != null && storedInClear(e.getValue().value())) {
                try {
                    reseal(type, id, e.getValue().revision(), d.bytes());
                } catch (PersistenceException e2) {
                    if (failed == null) {
                        failed = new PersistenceException("zstd dictionary " + id + " of " + type + " could not be sealed under the"
                                + " active key and stays in clear: " + e2.getMessage(), e2, e2.outcomeUnknown());
                    } else {
                        failed.addSuppressed(e2);
                    }
                }
            }
        }
        reload(t); // takes the sealed ones (also those another node sealed first) out of inClear
        return failed != null && !t.inClear.isEmpty() ? failed : null;
    }

    /** Whether a stored dictionary is sealed under another key than the active one, in a store that seals. */
    private boolean sealedUnderAnotherKey(String type, RegistryValue value) {
        EnvelopeCodec s = sealer;
        if (s == null || value.type() != ValueType.BINARY || storedInClear(value)) {
            return false;
        }
        byte[] raw = value.unsafeData();
        try {
            return !s.keys().activeKeyId().equals(EnvelopeCodec.header(raw, type).keyId());
        } catch (DataIntegrityException damaged) {
            return false; // not resealed: reads of the values that use it report it
        }
    }

    /** The "type" a sealed dictionary is bound to: contains '/', so it is never an entity type's name. */
    private static String sealedType(String type) {
        return "Configuration/Dictionaries/" + type;
    }

    /** The "version" a sealed dictionary is bound to (entity versions start at 1). */
    private static final long SEALED_VERSION = 0;

    /** The stored form of dictionary bytes: sealed when the store encrypts. */
    private byte[] storedForm(String type, int id, byte[] bytes) {
        EnvelopeCodec s = sealer;
        return s == null ? bytes : s.encode(sealedType(type), Integer.toString(id), SEALED_VERSION, bytes).envelope();
    }

    /**
     * Replaces the stored form of a dictionary with one sealed under the active key, unless it changed since {@code revision}
     * (another node resealed it: the next listing tells).
     *
     * @throws PersistenceException when the registry did not take it (logged too: a store that opens tries again)
     */
    private void reseal(String type, int id, long revision, byte[] bytes) {
        RegistryPath key = layout.dictionaries(type);
        try {
            gateway.commit(RegistryGateway.Commit.durable("resealing of zstd dictionary " + id + " of " + type, WriteBatch.builder()
                    .requireRevision(key, Integer.toString(id), revision)
                    .setValue(key, Integer.toString(id), RegistryValue.binary(storedForm(type, id, bytes))).build()).ungated());
            LOG.info("zstd dictionary {} of {} resealed under the active key", id, type);
        } catch (ConditionFailedException raced) {
            // changed meanwhile (another node resealed it): the next listing tells
        } catch (PersistenceException e) {
            LOG.warn("zstd dictionary {} of {} could not be resealed under the active key ({}); retried when a store of {} opens"
                    + " (one in clear: when its values in clear are encrypted again)", id, type, e.getClass().getSimpleName(), type);
            throw e;
        }
    }

    /** A reseal on load: a failure leaves the dictionary readable under its old key (and is logged) for the next open to retry. */
    private void resealOrLeave(String type, int id, long revision, byte[] bytes) {
        try {
            reseal(type, id, revision, bytes);
        } catch (PersistenceException logged) {
            // retried when a store of the type opens
        }
    }

    @Override
    public CompressionDictionary current(String type) {
        if (!trainAndUse) {
            return null;
        }
        TypeDictionaries t = types.get(type);
        return t == null ? null : t.current;
    }

    @Override
    public CompressionDictionary byId(String type, int id) {
        TypeDictionaries t = types.computeIfAbsent(type, TypeDictionaries::new);
        CompressionDictionary d = t.byId.get(id);
        if (d != null) {
            return d;
        }
        Optional<VersionedValue> stored = gateway.value("read of zstd dictionary " + id + " of " + type, layout.dictionaries(type),
                Integer.toString(id));
        if (stored.isEmpty()) {
            throw new DataIntegrityException(type + ": the value was compressed with dictionary " + id
                    + ", which does not exist under " + layout.dictionaries(type));
        }
        CompressionDictionary loaded = load(type, id, stored.get());
        if (storedInClear(stored.get().value())) {
            t.inClear.add(id); // before it is known: a reload must never take it for current
        }
        CompressionDictionary raced = t.byId.putIfAbsent(id, loaded);
        return raced != null ? raced : loaded;
    }

    @Override
    public void sample(String type, byte[] plaintext) {
        if (!trainAndUse || plaintext.length > MAX_SAMPLE_BYTES) {
            return;
        }
        TypeDictionaries t = types.get(type);
        if (t == null || t.current != null || t.training.get()) {
            return;
        }
        List<byte[]> batch = null;
        synchronized (t.samples) {
            t.samples.add(plaintext.clone());
            if (t.samples.size() >= t.target && t.training.compareAndSet(false, true)) {
                batch = new ArrayList<>(t.samples);
            }
        }
        if (batch != null) {
            List<byte[]> samples = batch;
            try {
                background.execute(() -> train(t, samples));
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // the factory closed under a save that was encoding: the save meets the closed factory when it
                // commits; training is given up, not left marked as running
                t.training.set(false);
            }
        }
    }

    /** Whether a training of the type's dictionary is under way (tests). */
    boolean training(String type) {
        TypeDictionaries t = types.get(type);
        return t != null && t.training.get();
    }

    /** The samples kept for the type's next training (tests). */
    int samplesHeld(String type) {
        TypeDictionaries t = types.get(type);
        if (t == null) {
            return 0;
        }
        synchronized (t.samples) {
            return t.samples.size();
        }
    }

    private void train(TypeDictionaries t, List<byte[]> samples) {
        try {
            byte[] buffer = new byte[DICTIONARY_BYTES];
            long size = Zstd.trainFromBuffer(samples.toArray(new byte[0][]), buffer);
            if (Zstd.isError(size) || size < 256) {
                synchronized (t.samples) {
                    t.target = Math.min(t.target * 2, MAX_SAMPLES);
                    if (t.samples.size() >= MAX_SAMPLES) {
                        t.samples.subList(0, t.samples.size() / 2).clear();
                    }
                }
                LOG.debug("zstd dictionary training for {} did not succeed with {} samples; will retry with more", t.type, samples.size());
                return;
            }
            store(t, Arrays.copyOf(buffer, (int) size));
            synchronized (t.samples) {
                t.samples.clear();
            }
        } catch (RuntimeException e) {
            // the next try waits for twice as many new samples: left as they were, every later save would start another
            // training over one more sample (a registry down for an hour: thousands of them, each a copy of a value)
            synchronized (t.samples) {
                t.samples.clear();
                t.target = Math.min(t.target * 2, MAX_SAMPLES);
            }
            LOG.warn("zstd dictionary training for {} failed; values stay compressed without a dictionary until a later"
                    + " training, after {} more samples: {}", t.type, t.target, e.toString());
        } finally {
            t.training.set(false);
        }
    }

    private void store(TypeDictionaries t, byte[] bytes) {
        RegistryPath key = layout.dictionaries(t.type);
        for (int attempt = 0; attempt < 5; attempt++) {
            reload(t);
            if (t.current != null) {
                return; // someone else trained one meanwhile: use theirs
            }
            int id = t.maxStoredId + 1;
            try {
                gateway.commit(RegistryGateway.Commit.durable("creation of zstd dictionary " + id + " of " + t.type, WriteBatch.builder()
                        .requireValueAbsent(key, Integer.toString(id))
                        .setValue(key, Integer.toString(id), RegistryValue.binary(storedForm(t.type, id, bytes))).build()).ungated());
                CompressionDictionary d = CompressionDictionary.of(id, bytes, EnvelopeCodec.COMPRESSION_LEVEL);
                t.byId.put(id, d);
                t.maxStoredId = Math.max(t.maxStoredId, id);
                t.current = d;
                LOG.info("trained zstd dictionary {} for {} ({} bytes)", id, t.type, bytes.length);
                return;
            } catch (ConditionFailedException raced) {
                // another node stored this id first: reload and adopt it
            }
        }
    }

    /** Stored dictionary ids of a type known to this factory. */
    List<Integer> knownIds(String type) {
        TypeDictionaries t = types.get(type);
        return t == null ? List.of() : t.byId.keySet().stream().sorted().toList();
    }
}
