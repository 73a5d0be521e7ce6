package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.ClusterPersistenceStore;
import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.cluster.RestoreMarker;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.crypto.KeySource;
import dev.reliablestore.codec.CodecMismatchException;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryUnavailableException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One open store for the duration of a command: the provider's factory for entity operations and,
 * for cluster-registry stores, the raw registry connection it runs on (snapshots, counts, change
 * feed, membership). Entities are handled as Jackson {@link JsonNode} trees: the tool has no entity
 * classes, and both providers encode entities with Jackson.
 */
final class StoreSession implements AutoCloseable {

    /** Whether a command may create the store. */
    enum Access {
        /** The store must exist already (reads, checks, backup). */
        EXISTING,
        /** The store is created when missing (writes, restore, migration target). */
        CREATE
    }

    private final StoreSpec spec;
    private final ClusterRegistry registry;
    private final ClusterPersistenceConfiguration config;
    /** What is stored under the root, read without opening the provider (which would initialise an empty root). */
    private final ClusterStoreAdmin stored;
    private final Map<String, EntityStore<JsonNode>> stores = new LinkedHashMap<>();
    private StoreFactory factory;

    /** False when the registry is another session's (one registry, two roots): that session closes it. */
    private final boolean ownsRegistry;

    private StoreSession(StoreSpec spec, ClusterRegistry registry, ClusterPersistenceConfiguration config, StoreFactory factory) {
        this(spec, registry, true, config, factory);
    }

    private StoreSession(StoreSpec spec, ClusterRegistry registry, boolean ownsRegistry, ClusterPersistenceConfiguration config,
            StoreFactory factory) {
        this.spec = spec;
        this.registry = registry;
        this.ownsRegistry = ownsRegistry;
        this.config = config;
        this.stored = registry == null ? null : ClusterStoreAdmin.of(registry, config.root());
        this.factory = factory;
    }

    static StoreSession open(StoreSpec spec, Access access) {
        return open(spec, access, false);
    }

    /**
     * @param asStored the command rewrites or copies what the store holds ({@code reencrypt},
     *                 {@code migrate}): an application may have saved values up to the registry's own
     *                 limit under a larger {@code maxValueSizeKB}, so the session takes that limit;
     *                 otherwise the provider's default holds for what the tool saves
     */
    static StoreSession open(StoreSpec spec, Access access, boolean asStored) {
        return open(spec, access, asStored, null);
    }

    /**
     * As {@link #open(StoreSpec, Access, boolean)}; a store in the registry {@code beside} holds open
     * (the same URI and options, another root) shares that connection, which {@code beside} closes: an
     * embedded registry's directory takes one connection at a time.
     */
    static StoreSession open(StoreSpec spec, Access access, boolean asStored, StoreSession beside) {
        StoreLocation where = spec.location();
        if (where.dir() != null && access == Access.EXISTING && !Files.isDirectory(where.dir())) {
            throw CliException.failed("no store at " + where.describe() + ": the directory " + where.dir() + " does not exist");
        }
        if (!where.cluster()) {
            if (spec.keys().present()) {
                throw CliException.usage("file: stores are not encrypted; key options do not apply to " + where.describe());
            }
            if (spec.explicitRoot() || !spec.registryOptions().isEmpty()) {
                throw CliException.usage("--resource-group, --key-path and --registry-option apply to cluster-registry stores, "
                        + "not to " + where.describe());
            }
            try {
                return new StoreSession(spec, null, null,
                        Persistence.openFactory("file", Map.of("directory", where.dir().toString()), Json.CODEC));
            } catch (ConfigurationException e) {
                throw CliException.usage(e.getMessage());
            }
        }
        configuration(spec, where.registry(), null); // the root and keys are valid before connecting
        if (beside != null && beside.isCluster() && beside.spec.location().registry().equals(where.registry())
                && toolRegistryOptions(where.registry(), spec.registryOptions())
                .equals(toolRegistryOptions(where.registry(), beside.spec.registryOptions()))) {
            Integer maxValueSizeKB = asStored ? Math.min(MAX_VALUE_SIZE_KB, beside.registry.limits().maxValueSize() / 1024) : null;
            return new StoreSession(spec, beside.registry, false, configuration(spec, where.registry(), maxValueSizeKB), null);
        }
        ClusterRegistry registry;
        try {
            registry = ClusterRegistries.open(where.registry(), toolRegistryOptions(where.registry(), spec.registryOptions()));
        } catch (RegistryArgumentException e) {
            throw CliException.usage(e.getMessage());
        } catch (RegistryUnavailableException e) {
            throw CliException.failed("cannot reach " + where.describe() + ": " + e.getMessage(), e);
        } catch (RegistryException e) {
            throw CliException.failed("cannot open " + where.describe() + ": " + e.getMessage(), e);
        }
        Integer maxValueSizeKB = asStored ? Math.min(MAX_VALUE_SIZE_KB, registry.limits().maxValueSize() / 1024) : null;
        try {
            return new StoreSession(spec, registry, configuration(spec, where.registry(), maxValueSizeKB), null);
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
    }

    static final String PRIMARY_CANDIDATE = "primaryCandidate";

    /**
     * The options the tool's own connection opens {@code uri} with: {@code primaryCandidate=false}
     * where the backend has it, unless the user set it (an option or the URI's query). The connection
     * is a member of the cluster while a command runs; as primary, a long {@code watch} or
     * {@code migrate} would take the role from an application, whose scheduled work (backups) runs
     * only on the primary.
     */
    static Map<String, String> toolRegistryOptions(String uri, Map<String, String> given) {
        if (!ClusterRegistries.optionNames(uri).contains(PRIMARY_CANDIDATE) || given.containsKey(PRIMARY_CANDIDATE)
                || ClusterRegistries.queryOptionNames(uri).contains(PRIMARY_CANDIDATE)) {
            return given;
        }
        Map<String, String> options = new LinkedHashMap<>(given);
        options.put(PRIMARY_CANDIDATE, "false");
        return options;
    }

    /** The largest {@code maxValueSizeKB} the provider takes. */
    private static final int MAX_VALUE_SIZE_KB = dev.reliablestore.registry.RegistryValue.MAX_SIZE / 1024;

    /** {@code maxValueSizeKB} null: the provider's default. */
    private static ClusterPersistenceConfiguration configuration(StoreSpec spec, String clusterName, Integer maxValueSizeKB) {
        try {
            ClusterPersistenceConfiguration.Builder b = ClusterPersistenceConfiguration.builder()
                    .clusterName(clusterName)
                    .resourceGroupName(spec.resourceGroupOrDefault())
                    .registryKeyPath(spec.keyPathOrDefault())
                    .enableCompression(spec.compression())
                    .codec(Json.CODEC);
            if (maxValueSizeKB != null) {
                b.maxValueSizeKB(maxValueSizeKB);
            }
            Optional<KeySource> keys = spec.keys().keySource();
            keys.ifPresent(source -> b.enableEncryption(true).keySource(source));
            return b.build();
        } catch (ConfigurationException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    // ---- what it is ------------------------------------------------------------------------

    boolean isCluster() {
        return registry != null;
    }

    StoreSpec spec() {
        return spec;
    }

    String describe() {
        return isCluster() ? registry.uri() + " at " + config.root() : spec.location().describe();
    }

    /** The raw registry of a cluster-registry store. */
    ClusterRegistry registry(String command) {
        if (!isCluster()) {
            throw needsCluster(command, spec.location());
        }
        return registry;
    }

    /** The refusal of a command that works on cluster-registry stores only. */
    static CliException needsCluster(String command, StoreLocation where) {
        return CliException.usage(command + " needs a cluster-registry store (embedded:, zookeeper://, clusapi://); "
                + where.describe() + " is a file store");
    }

    /** What a cluster-registry store holds, read without opening the provider. */
    ClusterStoreAdmin stored(String command) {
        registry(command);
        return stored;
    }

    StorageLayout layout() {
        return stored.layout();
    }

    /** The id of the key new values are encrypted with (opens the provider); null when unencrypted. */
    String activeKeyId() {
        return ClusterStoreAdmin.of(factory()).activeKeyId().orElse(null);
    }

    /** The value pipeline new writes go through, for people. */
    String pipeline() {
        if (!isCluster()) {
            return "JSON documents (file provider)";
        }
        StringBuilder s = new StringBuilder("JSON");
        if (config.enableCompression()) {
            s.append(" -> zstd").append(config.compressionDictionary() ? " (with trained per-type dictionaries)" : "");
        }
        if (config.enableEncryption()) {
            s.append(" -> AES-256-GCM (key ").append(activeKeyId()).append(", ").append(spec.keys().describe()).append(")");
        }
        return s.append(" -> envelope").toString();
    }

    // ---- entities --------------------------------------------------------------------------

    StoreFactory factory() {
        if (factory == null) {
            factory = checkingOnly ? ClusterStoreAdmin.openForChecking(config, registry) : ClusterPersistenceProvider.open(config, registry);
        }
        return factory;
    }

    /** Whether the provider is opened for a check, which must not write (see {@link #checkingOnly()}). */
    private boolean checkingOnly;

    /**
     * The provider is to be opened for a check: its stores never write on opening (no dictionary
     * resealed). Before anything opens it.
     */
    StoreSession checkingOnly() {
        if (!isCluster()) {
            return this; // the file provider writes nothing on opening
        }
        if (factory != null) {
            throw new IllegalStateException("the provider is open already");
        }
        checkingOnly = true;
        return this;
    }

    /**
     * The type as JSON trees, through the default codec (numbers read exactly: {@link Json#CODEC}).
     *
     * @throws CliException (usage) when the type was written with another codec: the tool does not read or write it
     */
    EntityStore<JsonNode> store(String typeName) {
        try {
            return stores.computeIfAbsent(typeName, t -> factory().store(t, JsonNode.class));
        } catch (CodecMismatchException e) {
            throw otherCodec(typeName, e.storedCodecId());
        }
    }

    /**
     * Refuses (bad usage) the first of {@code types} written with another codec than the tool's,
     * before any store is opened: opening one loads its type's dictionaries, resealing them under the
     * active key, so a command refused at its second type would have changed the first.
     */
    void requireToolCodec(List<String> types) {
        if (!isCluster()) {
            return; // a file store's types are opened without writing anything
        }
        for (String type : types) {
            Optional<String> id = stored.codecId(type);
            if (id.isPresent() && !id.get().equals(JacksonEntityCodec.ID)) {
                throw otherCodec(type, id.get());
            }
        }
    }

    /**
     * {@link #requireReadable}, and refuses (bad usage) every type when this session has no keys and the
     * root's {@code Configuration/KeyCheck} says an encrypting factory writes there: a type new in the
     * store has no descriptor to mark it, and its values written in clear the applications then refuse.
     */
    void requireWritable(List<String> types) {
        requireReadable(types);
        if (!isCluster() || config.enableEncryption()) {
            return;
        }
        if (registry.getValue(layout().configuration(), StorageLayout.KEY_CHECK_VALUE).isPresent()) {
            throw CliException.usage("the store " + describe() + " is encrypted (" + StorageLayout.CONFIGURATION + "/"
                    + StorageLayout.KEY_CHECK_VALUE + " records the keys it is written with), and no key was given: its applications"
                    + " refuse values written in clear; give the store's keys (e.g. --passphrase-env or --key-store, or --to-… for a"
                    + " migration's target)");
        }
        for (String type : stored.types()) {
            if (!types.contains(type) && stored.encrypted(type)) { // the chosen ones were checked above
                throw CliException.usage("the store " + describe() + " is encrypted (type " + type + "'s metadata says so), and no key"
                        + " was given: its applications refuse values written in clear; give the store's keys (e.g. --passphrase-env or"
                        + " --key-store, or --to-… for a migration's target)");
            }
        }
    }

    /**
     * {@link #requireToolCodec}, and refuses (bad usage) a type whose descriptor says it is encrypted
     * when this session has no keys: a store opened to write it is refused only at its opening, after
     * the types before it were opened (and created on a target); one opened for checking opens even an
     * encrypted type without keys, and would then fail on each value.
     */
    void requireReadable(List<String> types) {
        requireToolCodec(types);
        if (!isCluster() || config.enableEncryption()) {
            return;
        }
        for (String type : types) {
            if (stored.encrypted(type)) {
                throw CliException.usage("type " + type + " in " + describe() + " is encrypted (its metadata says so), and no key was"
                        + " given for it: give the store's keys (e.g. --passphrase-env or --key-store, or --to-… for a migration's target)");
            }
        }
    }

    private CliException otherCodec(String typeName, String storedCodecId) {
        return CliException.usage("type " + typeName + " in " + describe() + " was written with codec \"" + storedCodecId
                + "\"; this tool reads and writes entities as JSON with the default codec (\"" + JacksonEntityCodec.ID
                + "\") only, so it neither shows nor changes them"
                + (isCluster() ? "; status, count, watch, backup and restore work on them (they never decode an entity)" : ""));
    }

    @SuppressWarnings("unchecked")
    ClusterPersistenceStore<JsonNode> clusterStore(String typeName) {
        return store(typeName).unwrap(ClusterPersistenceStore.class);
    }

    /** Whether the type has ever been stored (never creates it). */
    boolean typeExists(String typeName) {
        return typeNames().contains(typeName);
    }

    /** The entity types in the store, sorted. */
    List<String> typeNames() {
        if (isCluster()) {
            return stored.types();
        }
        Path dir = spec.location().dir();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try {
            return dev.reliablestore.basic.FileProvider.typeNames(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** Entities per type. Cluster stores: from the version records of every type at one point in time; file stores: counts. */
    Map<String, Long> counts() {
        return isCluster() ? stored.counts() : counts(typeNames());
    }

    /**
     * Entities of {@code types}. A file store counts by opening each type, so only these are opened: another
     * type, of another codec, would be refused at its opening.
     */
    Map<String, Long> counts(List<String> types) {
        if (isCluster()) {
            Map<String, Long> all = stored.counts();
            Map<String, Long> counts = new TreeMap<>();
            types.forEach(t -> counts.put(t, all.getOrDefault(t, 0L)));
            return counts;
        }
        Map<String, Long> counts = new TreeMap<>();
        for (String t : types) {
            counts.put(t, store(t).count());
        }
        return counts;
    }

    /**
     * The mark of a restore into a cluster store's root that has not finished (the store holds part of a
     * backup; the provider refuses to open it), or empty; always empty for a file store.
     */
    Optional<RestoreMarker> unfinishedRestore() {
        return isCluster() ? stored.unfinishedRestore() : Optional.empty();
    }

    /** Why a store marked as an unfinished restore is not what it seems, for people. */
    static String unfinishedRestore(RestoreMarker marker) {
        return "a restore into this store (" + marker.describe() + ") did not finish, or is still running: the store holds part"
                + " of the backup, and applications refuse to open it until a restore completes (rerun restore --force)";
    }

    /** The layout version recorded by the provider, or empty before the first open. */
    Optional<Integer> layoutVersion() {
        return stored.layoutVersion();
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (EntityStore<JsonNode> s : stores.values()) {
            try {
                s.close();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (factory != null) {
            try {
                factory.close();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (registry != null && ownsRegistry) {
            try {
                registry.close();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
