package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityIds;
import dev.reliablestore.api.InvalidIdException;
import dev.reliablestore.cluster.crypto.KeySource;
import dev.reliablestore.cluster.crypto.KeySources;
import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.options.Durations;
import dev.reliablestore.options.Option;
import dev.reliablestore.options.OptionTable;
import dev.reliablestore.options.OptionValues;
import dev.reliablestore.options.Secrets;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The settings of the cluster-registry provider, after the seed's {@code ClusterPersistenceConfiguration}.
 * Build one with {@link #builder()} or from string properties with {@link #fromMap} /
 * {@link #fromProperties} (the form given to {@code Persistence.open("cluster-registry", …)}); every
 * key is listed in {@code docs/configuration.md} with its default, unit and limits.
 *
 * <p>Validation happens in {@link Builder#build()}: a bad value or an invalid combination (encryption
 * without a key source, cache settings with the cache off, …) raises {@link ConfigurationException}
 * naming the option, the value and the rule. Settings that can only be checked against the registry
 * (MaxValueSizeKB against its value limit, NodeAffinity against its members, MinimumNodes against
 * its size) are checked when the provider opens. {@link #toString()} never shows secrets.
 */
public final class ClusterPersistenceConfiguration {

    /** The registry a store opens when {@code clusterName} is not set. */
    public static final String DEFAULT_CLUSTER = "embedded:reliablestore-data";

    // property keys
    static final String CLUSTER_NAME = "clusterName";
    static final String RESOURCE_GROUP_NAME = "resourceGroupName";
    static final String REGISTRY_KEY_PATH = "registryKeyPath";
    static final String MAX_VALUE_SIZE_KB = "maxValueSizeKB";
    static final String ENABLE_COMPRESSION = "enableCompression";
    static final String COMPRESSION_DICTIONARY = "compressionDictionary";
    static final String REPLICATION_MODE = "replicationMode";
    static final String FAILOVER_TIMEOUT = "failoverTimeout";
    static final String NODE_AFFINITY = "nodeAffinity";
    /** The backend option (ZooKeeper's) that keeps a connection out of the primary election; the other backends have no election to join. */
    static final String PRIMARY_CANDIDATE = "primaryCandidate";
    static final String MINIMUM_NODES = "minimumNodes";
    static final String ENABLE_ENCRYPTION = "enableEncryption";
    static final String ENCRYPTION_ALGORITHM = "encryptionAlgorithm";
    static final String KEY_MANAGEMENT_SERVICE = "keyManagementService";
    static final String KEY_STORE_PATH = "keyStorePath";
    static final String KEY_STORE_TYPE = "keyStoreType";
    static final String KEY_STORE_PASSWORD = "keyStorePassword";
    static final String KEY_STORE_ACTIVE_ALIAS = "keyStoreActiveAlias";
    static final String PASSPHRASE = "passphrase";
    static final String PREVIOUS_PASSPHRASES = "previousPassphrases";
    static final String CONFLICT_RESOLUTION = "conflictResolution";
    static final String HEALTH_CHECK_INTERVAL = "healthCheckInterval";
    static final String MAX_RETRIES = "maxRetries";
    static final String RETRY_DELAY = "retryDelay";
    static final String ENABLE_LOCAL_CACHE = "enableLocalCache";
    static final String CACHE_SIZE = "cacheSize";
    static final String CACHE_TTL = "cacheTTL";
    static final String PRELOAD_CACHE = "preloadCache";
    static final String CACHED_READS = "cachedReads";
    /** {@code cachedReads.<Type>}: the {@link #CACHED_READS} of one entity type's store. */
    static final String CACHED_READS_PREFIX = CACHED_READS + ".";
    static final String ENABLE_AUDIT_LOGGING = "enableAuditLogging";
    static final String AUDIT_LOG_PATH = "auditLogPath";
    static final String BACKUP_ENABLED = "backupEnabled";
    static final String BACKUP_INTERVAL = "backupInterval";
    static final String BACKUP_RETENTION = "backupRetention";
    static final String BACKUP_PATH = "backupPath";
    static final String REGISTRY_OPTION_PREFIX = "registry.";
    /** {@code sites.<name>}: a site's registry URI; {@code sites.<name>.registry.<option>}: an option of that site's registry. */
    static final String SITES_PREFIX = "sites.";
    static final String LOCAL_SITE = "localSite";
    static final String PREFERRED_SITE = "preferredSite";
    static final String SITE_REPLICATION_DELAY = "siteReplicationDelay";
    static final String MAX_CLOCK_SKEW = "maxClockSkew";
    static final String CONFLICT_RESOLUTION_WINDOW = "conflictResolutionWindow";
    static final String CROSS_SITE_CONFLICTS = "crossSiteConflicts";
    /**
     * The seed's network-security key. IPsec is the operating system's, not something a library can switch on, so the key is
     * refused, whatever its value, with the options that give the property it asked for: an encrypted, mutually authenticated
     * connection to the ZooKeeper ensemble.
     */
    static final String SEED_ENABLE_IPSEC = "EnableIPSec";
    static final String ENABLE_IPSEC_REFUSED = "option EnableIPSec of the cluster-registry provider is not supported: ReliableStore does not"
            + " configure IPsec (that is the operating system's). For encrypted, mutually authenticated connections to ZooKeeper set"
            + " registry.tls=true, registry.tlsKeyStore, registry.tlsTrustStore (passwords as env: or file: references in"
            + " registry.tlsKeyStorePassword and registry.tlsTrustStorePassword) and registry.requireTls=true, which refuses a plaintext"
            + " configuration; see docs/zookeeper-backend.md, TLS";

    /**
     * The seed's Kerberos key: the ZooKeeper backend's {@code requireKerberos} (refuse to open without a
     * Kerberos principal and keytab), under the seed's name. Passed down as {@code registry.requireKerberos};
     * a backend without Kerberos refuses it as an option it does not have.
     */
    static final String SEED_REQUIRE_KERBEROS = "RequireKerberos";
    static final String BACKEND_REQUIRE_KERBEROS = "requireKerberos";

    static final int MAX_VALUE_SIZE_KB_LIMIT = RegistryValue.MAX_SIZE / 1024;
    static final Duration MAX_DURATION = Duration.ofHours(24);
    static final Duration MIN_HEALTH_CHECK_INTERVAL = Duration.ofMillis(50);
    static final int MAX_RETRIES_LIMIT = 100;
    static final int MAX_NODES = 64;
    static final int MAX_CACHE_SIZE = 10_000_000;
    static final Duration MIN_BACKUP_INTERVAL = Duration.ofSeconds(1);
    static final Duration MAX_BACKUP_INTERVAL = Duration.ofDays(7);
    static final int MAX_BACKUP_RETENTION = 10_000;
    static final int MIN_SITES = 2;
    static final int MAX_SITES = 16;
    static final Duration MAX_SITE_REPLICATION_DELAY = Duration.ofMinutes(1);
    static final Duration MIN_CLOCK_SKEW = Duration.ofMillis(100);
    static final Duration MAX_CLOCK_SKEW_LIMIT = Duration.ofHours(1);
    static final Duration MIN_CONFLICT_RESOLUTION_WINDOW = Duration.ofMinutes(1);
    static final Duration MAX_CONFLICT_RESOLUTION_WINDOW = Duration.ofDays(30);

    /** How keys are obtained. */
    enum KeyManagement { NONE, KEY_STORE, PASSPHRASE, CUSTOM }

    // ---- the string form: one Option per key; ranges and rules between options are checked by Builder.build() ----

    private static final String HOURS_24 = "at most 24h";

    static final Option<String> O_CLUSTER_NAME = Option.string(CLUSTER_NAME, DEFAULT_CLUSTER, "`" + DEFAULT_CLUSTER + "`", "registry URI",
            v -> v, "The registry: `embedded:<dir>`, `zookeeper://host:port[,…]/<chroot>`, `clusapi://<cluster>`. A bare name without `:`"
                    + " means `clusapi://<name>`. Unknown scheme or malformed URI → `ConfigurationException` *(open)*.");
    static final Option<String> O_RESOURCE_GROUP_NAME = Option.string(RESOURCE_GROUP_NAME, null, "**required**", "a registry name",
            v -> v, "First key segment of the storage root: stores with different groups never see each other's data. On Windows it is the"
                    + " group whose owner is the primary.").withLimits("1..255 characters, no `/`, `\\` or control characters");
    static final Option<String> O_REGISTRY_KEY_PATH = Option.string(REGISTRY_KEY_PATH, null, "**required**", "key path", v -> v,
            "Key path below the group, `\\` or `/` separated (`Software\\ReliableStore\\Data`).")
            .withLimits("≥ 1 segment; with the group at most " + (RegistryPath.MAX_DEPTH - StorageLayout.DEPTH_BELOW_ROOT) + " segments and "
                    + StorageLayout.maxRootLength() + " characters, so the layout's keys fit");
    static final Option<Long> O_MAX_VALUE_SIZE_KB = Option.integer(MAX_VALUE_SIZE_KB, 64, "KiB",
            "Largest stored entity *after* encoding (envelope bytes); above → `EntityTooLargeException` naming id, size and limit."
                    + " An entity whose JSON is over " + (EnvelopeCodec.MAX_PLAINTEXT >> 20) + " MiB is refused before it is encoded"
                    + " (`EntityTooLargeException.beforeEncoding`: the JSON's size, limit "
                    + String.format(Locale.ROOT, "%,d", EnvelopeCodec.MAX_PLAINTEXT) + ")."
                    + " *(open)* also ≤ the registry's `limits().maxValueSize()`.").withLimits("1 .. " + (RegistryValue.MAX_SIZE / 1024));
    static final Option<Boolean> O_ENABLE_COMPRESSION = Option.bool(ENABLE_COMPRESSION, true,
            "zstd level 3 when the JSON is ≥ 64 bytes and the frame is smaller than the input (plus its header).");
    static final Option<Boolean> O_COMPRESSION_DICTIONARY = Option.bool(COMPRESSION_DICTIONARY, true,
            "Train and use a per-type zstd dictionary (256 samples, 15 KiB). `true` with compression off → refused. Values written with a"
                    + " dictionary stay readable whatever this setting.").withDefaultText("= `enableCompression`");
    static final Option<ReplicationMode> O_REPLICATION_MODE = Option.choice(REPLICATION_MODE, ordered("Synchronous", ReplicationMode.SYNCHRONOUS,
            "Asynchronous", ReplicationMode.ASYNCHRONOUS), ReplicationMode.SYNCHRONOUS,
            "`Synchronous`: a write returns once the registry reports it durable (`commit`). `Asynchronous`: `commitAsync`; a save returns"
                    + " once the written value is readable (committed, not yet durable; embedded: durable within `registry.asyncFlushInterval`,"
                    + " default 10ms); if the read that checks is refused for another reason than a lost connection, the save waits for"
                    + " its commit's own answer. On ZooKeeper and clusapi a batch is readable only once the quorum has committed it, so"
                    + " there both modes return at that point. Deletes and clears wait for durability in both modes.");
    static final Option<Duration> O_FAILOVER_TIMEOUT = Option.duration(FAILOVER_TIMEOUT, Duration.ofSeconds(30),
            "Upper bound on the time one registry call of an operation keeps retrying a retryable failure (registry unavailable, too few nodes); an operation that makes several (a save of an entity whose version is not known reads it, then commits) may take that long for each. Passed"
                    + " down to a backend that has the same option (ZooKeeper: bounds one registry call; clusapi: bounds an administrator's group move or drain; both take 100ms .. 1h) unless"
                    + " `registry.failoverTimeout` or the `clusterName` URI's query sets it.").withLimits("1ms .. 24h");
    static final Option<String> O_NODE_AFFINITY = Option.string(NODE_AFFINITY, "", "empty (= all nodes)", "comma-separated node names", v -> v,
            "*(open)* every name must be a member of the cluster. Health checks then fail while the primary is outside the list or none"
                    + " of its nodes is up. The contract has no way to route reads to a node, so affinity is a health rule, not a routing rule."
                    + " Passed down to a backend that has the same option (ZooKeeper) unless `registry.nodeAffinity` or the `clusterName` URI's query sets it.")
            .withLimits("0 .. " + MAX_NODES + " distinct names");
    static final Option<Long> O_MINIMUM_NODES = Option.integer(MINIMUM_NODES, 1, "nodes",
            "Writes are refused (retryably, within `failoverTimeout`) while fewer nodes are `UP` or `PAUSED` (drained by an administrator: it"
                    + " keeps its copy of the data, only the primary role is kept from it); health checks fail too. *(open)* must not"
                    + " exceed the cluster's size on the embedded registry (1 node, so only 1 is accepted there) and on clusapi; on ZooKeeper,"
                    + " where nodes join by opening a registry, a node alone opens once the store's layout exists (writing it on a new"
                    + " chroot is a write like the others) and its writes wait for enough live nodes. Passed down as the ZooKeeper"
                    + " backend's `minNodes` unless `registry.minNodes` or the `clusterName` URI's query sets it.").withLimits("1 .. " + MAX_NODES);
    static final Option<Boolean> O_ENABLE_ENCRYPTION = Option.bool(ENABLE_ENCRYPTION, false,
            "AES-256-GCM of every value written; needs a key source. Any key option set while this is `false` is refused.");
    static final Option<String> O_ENCRYPTION_ALGORITHM = Option.string(ENCRYPTION_ALGORITHM, "AES256", "`AES256`", "`AES256`", v -> v,
            "`AES256` (= `AES-256-GCM`), the only one.");
    static final Option<KeyManagement> O_KEY_MANAGEMENT_SERVICE = Option.choice(KEY_MANAGEMENT_SERVICE, ClusterPersistenceConfiguration.<KeyManagement>ordered("KeyStore",
            KeyManagement.KEY_STORE, "Passphrase", KeyManagement.PASSPHRASE), null, "–",
            "Required with encryption; the builder also accepts any `KeySource` (`keySource(…)`).");
    static final Option<String> O_KEY_STORE_PATH = Option.string(KEY_STORE_PATH, null, "–", "path", v -> v,
            "`KeyStore` only: a BCFKS or PKCS#12 file of AES-256 secret keys (create/rotate with `KeyStoreFiles.addNewKey`).");
    static final Option<String> O_KEY_STORE_TYPE = Option.string(KEY_STORE_TYPE, "BCFKS", "`BCFKS`", "`BCFKS` or `PKCS12`", v -> v,
            "the key store's format.");
    static final Option<String> O_KEY_STORE_PASSWORD = Option.secret(KEY_STORE_PASSWORD, "secret", v -> v,
            "Required with `KeyStore`. Never printed.");
    static final Option<String> O_KEY_STORE_ACTIVE_ALIAS = Option.string(KEY_STORE_ACTIVE_ALIAS, null, "newest AES entry", "key alias", v -> v,
            "The key id for new writes; default: the AES entry with the latest creation date (a file holding other keys only needs it).");
    static final Option<String> O_PASSPHRASE = Option.secret(PASSPHRASE, "secret", v -> v, "`Passphrase` only: the current passphrase (non-empty).");
    static final Option<String> O_PREVIOUS_PASSPHRASES = Option.string(PREVIOUS_PASSPHRASES, "", "empty", "comma-separated secrets", v -> v,
            "Older passphrases still needed to read values written before a rotation; each a secret reference.");
    static final Option<ConflictResolution> O_CONFLICT_RESOLUTION = Option.choice(CONFLICT_RESOLUTION, ordered("Optimistic",
            ConflictResolution.OPTIMISTIC, "LastWriteWins", ConflictResolution.LAST_WRITE_WINS, "LastWrite", ConflictResolution.LAST_WRITE_WINS,
            "Merge", ConflictResolution.MERGE), ConflictResolution.OPTIMISTIC,
            "`LastWrite` is `LastWriteWins`; `Merge` needs a `ConflictResolver` per entity class (builder only). See \"Conflicts\" in"
                    + " cluster-registry-provider.md for why the default is not the seed's `LastWrite`.");
    static final Option<Duration> O_HEALTH_CHECK_INTERVAL = Option.duration(HEALTH_CHECK_INTERVAL, Duration.ofSeconds(10),
            "Between the end of one health check and the start of the next.").withLimits("50ms .. 24h");
    static final Option<Long> O_MAX_RETRIES = Option.integer(MAX_RETRIES, 3, "retries",
            "Retries of a retryable failure, per registry call of an operation (so at most `maxRetries + 1` attempts of each). Also bounds the merges of one `Merge` save.")
            .withLimits("0 .. " + MAX_RETRIES_LIMIT);
    static final Option<Duration> O_RETRY_DELAY = Option.duration(RETRY_DELAY, Duration.ofSeconds(1),
            "First backoff; doubles each retry, ±10 % jitter, capped by what is left of `failoverTimeout`.")
            .withLimits("0 .. 24h, and shorter than `failoverTimeout` when `maxRetries > 0`");
    static final Option<Boolean> O_ENABLE_LOCAL_CACHE = Option.bool(ENABLE_LOCAL_CACHE, false,
            "Caffeine cache of decoded (decrypted, decompressed) values, one per entity type per factory (shared by every store of the"
                    + " type), invalidated from the registry change feed.");
    static final Option<Long> O_CACHE_SIZE = Option.integer(CACHE_SIZE, 1000, "entries",
            "Per entity type (values and the tombstones of deleted entities). Only with the cache on (else refused).")
            .withLimits("1 .. " + MAX_CACHE_SIZE);
    static final Option<Duration> O_CACHE_TTL = Option.duration(CACHE_TTL, Duration.ofMinutes(5), "Expiry after write. Only with the cache on.")
            .withLimits("1ms .. 24h");
    static final Option<Boolean> O_PRELOAD_CACHE = Option.bool(PRELOAD_CACHE, false,
            "Reads every entity of a type into the cache when the type's cache opens (its first store in the factory). Only with the cache on.");
    static final Option<CachedReads> O_CACHED_READS = Option.choice(CACHED_READS, ordered("Auto", CachedReads.AUTO, "Copy", CachedReads.COPY,
            "Share", CachedReads.SHARE), CachedReads.AUTO,
            "What a cache hit returns, for every store of the factory: `Auto` = the one shared instance for a deeply immutable entity type,"
                    + " a fresh copy for others; `Copy` = a fresh copy always; `Share` = the shared instance always (callers must never mutate"
                    + " what they read). Only with the cache on (else refused). `cachedReads.<Type>` (below) sets it for one type."
                    + " The rule: \"Zero-copy cached reads\" in cluster-registry-provider.md.");
    static final Option<Boolean> O_ENABLE_AUDIT_LOGGING = Option.bool(ENABLE_AUDIT_LOGGING, false,
            "Appends every write, delete and clear to a hash-chained audit log (see cluster-registry-provider.md, Audit log); needs `auditLogPath`.");
    static final Option<String> O_AUDIT_LOG_PATH = Option.string(AUDIT_LOG_PATH, null, "–", "directory", v -> v,
            "Where the audit log is written. Only with audit logging on.");
    static final Option<Boolean> O_BACKUP_ENABLED = Option.bool(BACKUP_ENABLED, false,
            "The primary node writes a backup every `backupInterval` into `backupPath` (see configuration.md, Audit logging and scheduled backups).");
    static final Option<Duration> O_BACKUP_INTERVAL = Option.duration(BACKUP_INTERVAL, Duration.ofHours(1),
            "Time between scheduled backups. Only with backups on.").withLimits("1s .. 7d");
    static final Option<Long> O_BACKUP_RETENTION = Option.integer(BACKUP_RETENTION, 24, "backups",
            "Scheduled backups kept; older ones are deleted. Only with backups on.").withLimits("1 .. " + MAX_BACKUP_RETENTION);
    static final Option<String> O_BACKUP_PATH = Option.string(BACKUP_PATH, null, "–", "directory", v -> v,
            "Where scheduled backups are written. Only with backups on.");

    static final Option<String> O_LOCAL_SITE = Option.string(LOCAL_SITE, null, "required with `sites.<site>`", "a site name", v -> v,
            "The site this factory writes to (geo-replication.md): one of the `sites.<site>`, whose registry the factory opens"
                    + " (`clusterName`, if given, must be the same URI). Refused without sites.").withLimits("a name given as `sites.<site>`");
    static final Option<String> O_PREFERRED_SITE = Option.string(PREFERRED_SITE, null, "the local site", "a site name", v -> v,
            "Where a store's `preferredReads()` are answered (geo-replication.md, Reads): reads that return no version, so nothing read"
                    + " there is written back; possibly stale relative to this site's own writes. While that site cannot be reached they are"
                    + " answered by the local site. A store's other reads always go to the local site. Refused without sites.")
            .withLimits("a name given as `sites.<site>`");
    static final Option<Duration> O_SITE_REPLICATION_DELAY = Option.duration(SITE_REPLICATION_DELAY, Duration.ofSeconds(1), Duration.ZERO,
            MAX_SITE_REPLICATION_DELAY, "How long a shipper gathers this site's batches, after the first, before it sends them to another"
                    + " site (batching); `0ms` sends what is waiting as soon as the shipper is free. Refused without sites.");
    static final Option<Duration> O_MAX_CLOCK_SKEW = Option.duration(MAX_CLOCK_SKEW, Duration.ofSeconds(5), MIN_CLOCK_SKEW,
            MAX_CLOCK_SKEW_LIMIT, "How far ahead of this site's clock another site's stamp may be: a write or a shipment over a stamp"
                    + " further ahead is refused and reported until the clocks agree (geo-replication.md, Clock skew). Refused without sites.");
    static final Option<CrossSiteConflicts> O_CROSS_SITE_CONFLICTS = Option.choice(CROSS_SITE_CONFLICTS, ordered(
            CrossSiteConflicts.LAST_WRITE_WINS.optionName(), CrossSiteConflicts.LAST_WRITE_WINS,
            CrossSiteConflicts.CONFLICT_RECORD.optionName(), CrossSiteConflicts.CONFLICT_RECORD,
            CrossSiteConflicts.MERGE.optionName(), CrossSiteConflicts.MERGE),
            CrossSiteConflicts.LAST_WRITE_WINS,
            "What happens to the write that loses a conflict between sites (geo-replication.md, Conflicts): `LastWriteWins` replaces"
                    + " it by the write with the later stamp and raises a `ConflictResolved` event; `ConflictRecord` also keeps the losing"
                    + " value in a durable record at the site that settled it (`conflictRecords()`), for `conflictResolutionWindow`;"
                    + " `Merge` has the type's `ConflictResolver` (builder only, one per entity class; it must be a join, e.g. a union)"
                    + " merge two updates at each site that settles the conflict, which ships the result (a conflict with a delete is"
                    + " settled as `LastWriteWins`). Not the same"
                    + " as `conflictResolution`, which is for a local save's version mismatch. Refused without sites.");
    static final Option<Duration> O_CONFLICT_RESOLUTION_WINDOW = Option.duration(CONFLICT_RESOLUTION_WINDOW, Duration.ofHours(24),
            MIN_CONFLICT_RESOLUTION_WINDOW, MAX_CONFLICT_RESOLUTION_WINDOW, "How long each site keeps the tombstones of deleted entities"
                    + " (then they are removed); a site that a write reaches later than this after it was made, and that holds nothing of"
                    + " its entity, stops being shipped to (`site-resync-<site>`) and must be repaired (geo-replication.md, Deletes and the"
                    + " window). Longer keeps more tombstones; shorter makes a site that was away longer need repair. Refused without sites.");

    /** Every option of the string form, in the order docs/configuration.md shows them. */
    public static final OptionTable OPTIONS = OptionTable.of("the cluster-registry provider", O_CLUSTER_NAME, O_RESOURCE_GROUP_NAME,
            O_REGISTRY_KEY_PATH, O_MAX_VALUE_SIZE_KB, O_ENABLE_COMPRESSION, O_COMPRESSION_DICTIONARY, O_REPLICATION_MODE, O_FAILOVER_TIMEOUT,
            O_NODE_AFFINITY, O_MINIMUM_NODES, O_ENABLE_ENCRYPTION, O_ENCRYPTION_ALGORITHM, O_KEY_MANAGEMENT_SERVICE, O_KEY_STORE_PATH,
            O_KEY_STORE_TYPE, O_KEY_STORE_PASSWORD, O_KEY_STORE_ACTIVE_ALIAS, O_PASSPHRASE, O_PREVIOUS_PASSPHRASES, O_CONFLICT_RESOLUTION,
            O_HEALTH_CHECK_INTERVAL, O_MAX_RETRIES, O_RETRY_DELAY, O_ENABLE_LOCAL_CACHE, O_CACHE_SIZE, O_CACHE_TTL, O_PRELOAD_CACHE,
            O_CACHED_READS, O_ENABLE_AUDIT_LOGGING, O_AUDIT_LOG_PATH, O_BACKUP_ENABLED, O_BACKUP_INTERVAL, O_BACKUP_RETENTION, O_BACKUP_PATH,
            O_LOCAL_SITE, O_PREFERRED_SITE, O_SITE_REPLICATION_DELAY, O_MAX_CLOCK_SKEW, O_CROSS_SITE_CONFLICTS,
            O_CONFLICT_RESOLUTION_WINDOW)
            .withPatterns(CACHED_READS_PREFIX + "<Type>", REGISTRY_OPTION_PREFIX + "<backend option>", SITES_PREFIX + "<site>",
                    SITES_PREFIX + "<site>." + REGISTRY_OPTION_PREFIX + "<backend option>");

    /** Choices in the order given (the docs show them so): name, value, name, value, … */
    @SuppressWarnings("unchecked")
    private static <E> Map<String, E> ordered(Object... namesAndValues) {
        Map<String, E> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            m.put((String) namesAndValues[i], (E) namesAndValues[i + 1]);
        }
        return m;
    }

    private final String clusterName;
    private final String resourceGroupName;
    private final String registryKeyPath;
    private final RegistryPath root;
    private final int maxValueSizeKB;
    private final boolean enableCompression;
    private final boolean compressionDictionary;
    private final ReplicationMode replicationMode;
    private final Duration failoverTimeout;
    private final List<String> nodeAffinity;
    private final int minimumNodes;
    private final boolean enableEncryption;
    private final String encryptionAlgorithm;
    private final KeyManagement keyManagement;
    private final KeySource keySource;
    private final ConflictResolution conflictResolution;
    private final Map<Class<?>, ConflictResolver<?>> conflictResolvers;
    private final Duration healthCheckInterval;
    private final int maxRetries;
    private final Duration retryDelay;
    private final boolean enableLocalCache;
    private final int cacheSize;
    private final Duration cacheTtl;
    private final boolean preloadCache;
    private final CachedReads cachedReads;
    private final Map<String, CachedReads> cachedReadsByType;
    private final ClusterHooks hooks;
    private final Executor executor;
    private final EntityCodec codec;
    private final Map<String, String> registryOptions;
    private final boolean enableAuditLogging;
    private final Path auditLogPath;
    private final boolean backupEnabled;
    private final Duration backupInterval;
    private final int backupRetention;
    private final Path backupPath;
    private final Map<String, String> sites;
    private final Map<String, Map<String, String>> siteRegistryOptions;
    private final String localSite;
    private final String preferredSite;
    private final Duration siteReplicationDelay;
    private final Duration maxClockSkew;
    private final Duration conflictResolutionWindow;
    private final CrossSiteConflicts crossSiteConflicts;

    private ClusterPersistenceConfiguration(Builder b, RegistryPath root, KeySource keySource) {
        this.clusterName = b.clusterName;
        this.resourceGroupName = b.resourceGroupName;
        this.registryKeyPath = b.registryKeyPath;
        this.root = root;
        this.maxValueSizeKB = b.maxValueSizeKB;
        this.enableCompression = b.enableCompression;
        this.compressionDictionary = b.compressionDictionary == null ? b.enableCompression : b.compressionDictionary;
        this.replicationMode = b.replicationMode;
        this.failoverTimeout = b.failoverTimeout;
        this.nodeAffinity = List.copyOf(b.nodeAffinity);
        this.minimumNodes = b.minimumNodes;
        this.enableEncryption = b.enableEncryption;
        this.encryptionAlgorithm = b.encryptionAlgorithm;
        this.keyManagement = b.keyManagement;
        this.keySource = keySource;
        this.conflictResolution = b.conflictResolution;
        this.conflictResolvers = Map.copyOf(b.conflictResolvers);
        this.healthCheckInterval = b.healthCheckInterval;
        this.maxRetries = b.maxRetries;
        this.retryDelay = b.retryDelay;
        this.enableLocalCache = b.enableLocalCache;
        this.cacheSize = b.cacheSize;
        this.cacheTtl = b.cacheTtl;
        this.preloadCache = b.preloadCache;
        this.cachedReads = b.cachedReads;
        this.cachedReadsByType = Map.copyOf(b.cachedReadsByType);
        this.hooks = b.hooks;
        this.executor = b.executor;
        this.codec = b.codec;
        this.registryOptions = Collections.unmodifiableMap(new TreeMap<>(b.registryOptions));
        this.enableAuditLogging = b.enableAuditLogging;
        this.auditLogPath = b.auditLogPath;
        this.backupEnabled = b.backupEnabled;
        this.backupInterval = b.backupInterval;
        this.backupRetention = b.backupRetention;
        this.backupPath = b.backupPath;
        this.sites = Collections.unmodifiableMap(new TreeMap<>(b.sites));
        Map<String, Map<String, String>> perSite = new TreeMap<>();
        b.siteRegistryOptions.forEach((site, options) -> perSite.put(site, Collections.unmodifiableMap(new TreeMap<>(options))));
        this.siteRegistryOptions = Collections.unmodifiableMap(perSite);
        this.localSite = b.localSite;
        this.preferredSite = b.preferredSite != null ? b.preferredSite : b.localSite;
        this.siteReplicationDelay = b.siteReplicationDelay;
        this.maxClockSkew = b.maxClockSkew;
        this.conflictResolutionWindow = b.conflictResolutionWindow;
        this.crossSiteConflicts = b.crossSiteConflicts;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Reads the string form; see {@link #fromMap}. */
    public static ClusterPersistenceConfiguration fromProperties(Properties properties) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String name : properties.stringPropertyNames()) {
            map.put(name, properties.getProperty(name));
        }
        return fromMap(map);
    }

    /**
     * Reads the string form of every option (keys as in {@code docs/configuration.md}). Durations are
     * ISO-8601 ({@code PT30S}) or a number with a unit ({@code 500ms}, {@code 30s}, {@code 5m},
     * {@code 1h}); booleans are {@code true}/{@code false}; lists are comma-separated; secrets are
     * references: {@code env:NAME}, {@code file:PATH} or {@code text:VALUE}. Keys starting with
     * {@code registry.} are passed, without the prefix, to the registry backend, which refuses any it
     * does not know.
     *
     * @throws ConfigurationException naming an unknown key, a malformed value or a broken rule
     */
    public static ClusterPersistenceConfiguration fromMap(Map<String, String> configuration) {
        return parse(configuration).build();
    }

    /** The string form with an entity codec, which has no string form ({@code Persistence.openFactory(name, map, codec)}). */
    static ClusterPersistenceConfiguration fromMap(Map<String, String> configuration, EntityCodec codec) {
        return parse(configuration).codec(codec).build();
    }

    private static Builder parse(Map<String, String> configuration) {
        Objects.requireNonNull(configuration, "configuration");
        Builder b = builder();
        Map<String, String> plain = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : new TreeMap<>(configuration).entrySet()) {
            String key = e.getKey();
            String value = Objects.requireNonNull(e.getValue(), () -> "value of " + key).strip();
            if (key.equalsIgnoreCase(SEED_ENABLE_IPSEC)) {
                throw new ConfigurationException(ENABLE_IPSEC_REFUSED);
            }
            if (key.equalsIgnoreCase(SEED_REQUIRE_KERBEROS)) {
                if (configuration.containsKey(REGISTRY_OPTION_PREFIX + BACKEND_REQUIRE_KERBEROS)) {
                    throw new ConfigurationException("options " + key + " and " + REGISTRY_OPTION_PREFIX + BACKEND_REQUIRE_KERBEROS
                            + " are the same setting; give one");
                }
                b.registryOption(BACKEND_REQUIRE_KERBEROS, value);
                continue;
            }
            if (key.startsWith(REGISTRY_OPTION_PREFIX) && key.length() > REGISTRY_OPTION_PREFIX.length()) {
                b.registryOption(key.substring(REGISTRY_OPTION_PREFIX.length()), value);
            } else if (key.startsWith(SITES_PREFIX) && key.length() > SITES_PREFIX.length()) {
                String rest = key.substring(SITES_PREFIX.length());
                int dot = rest.indexOf('.');
                if (dot < 0) {
                    b.site(rest, value);
                } else if (rest.startsWith(REGISTRY_OPTION_PREFIX, dot + 1) && rest.length() > dot + 1 + REGISTRY_OPTION_PREFIX.length()) {
                    b.siteRegistryOption(rest.substring(0, dot), rest.substring(dot + 1 + REGISTRY_OPTION_PREFIX.length()), value);
                } else {
                    throw new ConfigurationException("option " + key + " of the cluster-registry provider is unknown: a site takes "
                            + SITES_PREFIX + "<site> (its registry URI) and " + SITES_PREFIX + "<site>." + REGISTRY_OPTION_PREFIX
                            + "<backend option>");
                }
            } else if (key.startsWith(CACHED_READS_PREFIX) && key.length() > CACHED_READS_PREFIX.length()) {
                b.cachedReads(key.substring(CACHED_READS_PREFIX.length()), parseOne(O_CACHED_READS, key, value));
            } else {
                plain.put(key, value);
            }
        }
        b.apply(OPTIONS.read(plain, ConfigurationException::new));
        return b;
    }

    private static <T> T parseOne(Option<T> option, String key, String value) {
        try {
            return option.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("option " + key + " of the cluster-registry provider: " + e.getMessage());
        }
    }

    // ---- accessors ---------------------------------------------------------------------------

    /** The registry URI (a bare cluster name was turned into {@code clusapi://<name>}). */
    public String clusterName() {
        return clusterName;
    }

    public String resourceGroupName() {
        return resourceGroupName;
    }

    public String registryKeyPath() {
        return registryKeyPath;
    }

    /** The storage root: {@code <resourceGroupName>/<registryKeyPath segments>}. */
    public RegistryPath root() {
        return root;
    }

    public int maxValueSizeKB() {
        return maxValueSizeKB;
    }

    public boolean enableCompression() {
        return enableCompression;
    }

    public boolean compressionDictionary() {
        return compressionDictionary;
    }

    public ReplicationMode replicationMode() {
        return replicationMode;
    }

    public Duration failoverTimeout() {
        return failoverTimeout;
    }

    /** Preferred nodes; empty means all nodes. */
    public List<String> nodeAffinity() {
        return nodeAffinity;
    }

    public int minimumNodes() {
        return minimumNodes;
    }

    public boolean enableEncryption() {
        return enableEncryption;
    }

    public String encryptionAlgorithm() {
        return encryptionAlgorithm;
    }

    /** The key source, present when encryption is on. */
    public Optional<KeySource> keySource() {
        return Optional.ofNullable(keySource);
    }

    public ConflictResolution conflictResolution() {
        return conflictResolution;
    }

    /** The resolver registered for an entity class ({@code Merge}, locally or across sites, only). */
    @SuppressWarnings("unchecked")
    public <T> Optional<ConflictResolver<T>> conflictResolver(Class<T> type) {
        return Optional.ofNullable((ConflictResolver<T>) conflictResolvers.get(type));
    }

    /** The entity classes with a registered resolver. */
    public java.util.Set<Class<?>> conflictResolverTypes() {
        return conflictResolvers.keySet();
    }

    public Duration healthCheckInterval() {
        return healthCheckInterval;
    }

    public int maxRetries() {
        return maxRetries;
    }

    public Duration retryDelay() {
        return retryDelay;
    }

    public boolean enableLocalCache() {
        return enableLocalCache;
    }

    public int cacheSize() {
        return cacheSize;
    }

    public Duration cacheTTL() {
        return cacheTtl;
    }

    public boolean preloadCache() {
        return preloadCache;
    }

    /** What a cache hit of the store of {@code typeName} returns: its {@code cachedReads.<Type>}, else {@code cachedReads}. */
    public CachedReads cachedReads(String typeName) {
        return cachedReadsByType.getOrDefault(typeName, cachedReads);
    }

    public ClusterHooks hooks() {
        return hooks;
    }

    /** The executor of the stores' async twins; empty: each factory runs its own pool and shuts it down when it closes. */
    public Optional<Executor> executor() {
        return Optional.ofNullable(executor);
    }

    /**
     * How entities become stored bytes: {@link JacksonEntityCodec#defaults()} unless the builder was
     * given another. Its {@link EntityCodec#id()} is recorded per entity type; a type written with
     * another codec is refused when its store opens.
     */
    public EntityCodec codec() {
        return codec;
    }

    /** The {@code registry.*} options given (without the prefix). */
    public Map<String, String> registryOptions() {
        return registryOptions;
    }

    /**
     * The options to open the registry with: the {@code registry.*} ones given, and the settings that
     * exist at both layers — {@code failoverTimeout}, {@code minimumNodes} (the backend's
     * {@code minNodes}), {@code nodeAffinity} — set once here and passed down to a backend that
     * {@code accepts} them, unless a {@code registry.*} option or the query of {@link #clusterName()}
     * sets them for the backend alone.
     */
    public Map<String, String> registryOptions(Set<String> accepts) {
        Map<String, String> all = new LinkedHashMap<>(registryOptions);
        Set<String> query = ClusterRegistries.queryOptionNames(clusterName);
        passDown(all, accepts, query, FAILOVER_TIMEOUT, Durations.format(failoverTimeout));
        passDown(all, accepts, query, "minNodes", Integer.toString(minimumNodes));
        passDown(all, accepts, query, NODE_AFFINITY, String.join(",", nodeAffinity));
        return all;
    }

    /** A backend's options map wins over its URI's query: a setting the query gives is not passed down over it. */
    private static void passDown(Map<String, String> into, Set<String> accepts, Set<String> query, String backendKey, String value) {
        if (accepts.contains(backendKey) && !query.contains(backendKey)) {
            into.putIfAbsent(backendKey, value);
        }
    }

    /** Whether every write, delete and transaction outcome is recorded in the audit log. */
    public boolean enableAuditLogging() {
        return enableAuditLogging;
    }

    /** The directory of the audit logs (one file per node), present when audit logging is on. */
    public Optional<Path> auditLogPath() {
        return Optional.ofNullable(auditLogPath);
    }

    /** Whether the primary node writes a backup every {@link #backupInterval()}. */
    public boolean backupEnabled() {
        return backupEnabled;
    }

    public Duration backupInterval() {
        return backupInterval;
    }

    /** How many scheduled backups are kept; older ones are deleted. */
    public int backupRetention() {
        return backupRetention;
    }

    /** The directory scheduled backups are written to, present when they are enabled. */
    public Optional<Path> backupPath() {
        return Optional.ofNullable(backupPath);
    }

    /**
     * Every site of a multi-site store, this one included (name → registry URI); empty for a
     * single-site store (docs/geo-replication.md).
     */
    public Map<String, String> sites() {
        return sites;
    }

    /** The site this factory writes to, present when {@link #sites()} are configured; its URI is {@link #clusterName()}. */
    public Optional<String> localSite() {
        return Optional.ofNullable(localSite);
    }

    /**
     * Where a store's {@code preferredReads()} are answered: the {@code preferredSite}, or the local
     * site when none is given; present when {@link #sites()} are configured.
     */
    public Optional<String> preferredSite() {
        return Optional.ofNullable(preferredSite);
    }

    /**
     * The options to open another site's registry with: its {@code sites.<site>.registry.*} options,
     * and, for a backend that {@code accepts} them unless one of those or the site URI's query sets
     * them, {@code failoverTimeout} and {@code primaryCandidate=false}. (The local site's registry
     * takes {@link #registryOptions(Set)}.) Not a candidate: the connection is a member of the other
     * site's cluster, and as its primary it would keep the role from that site's own nodes, whose
     * scheduled work (backups, change-log collection with their settings) runs only on the primary.
     */
    public Map<String, String> siteRegistryOptions(String site, Set<String> accepts) {
        if (!sites.containsKey(site) || site.equals(localSite)) {
            throw new IllegalArgumentException("'" + site + "' is not another site of " + sites.keySet());
        }
        Map<String, String> all = new LinkedHashMap<>(siteRegistryOptions.getOrDefault(site, Map.of()));
        Set<String> query = ClusterRegistries.queryOptionNames(sites.get(site));
        passDown(all, accepts, query, FAILOVER_TIMEOUT, Durations.format(failoverTimeout));
        passDown(all, accepts, query, PRIMARY_CANDIDATE, "false");
        return all;
    }

    /** How long a shipper gathers batches before it sends them to another site. */
    public Duration siteReplicationDelay() {
        return siteReplicationDelay;
    }

    /** How far ahead of this site's clock another site's stamp may be. */
    public Duration maxClockSkew() {
        return maxClockSkew;
    }

    /** How long each site keeps tombstones; a site that a write reaches later than this must be repaired. */
    public Duration conflictResolutionWindow() {
        return conflictResolutionWindow;
    }

    /** What happens to the write that loses a conflict between sites. */
    public CrossSiteConflicts crossSiteConflicts() {
        return crossSiteConflicts;
    }

    @Override
    public String toString() {
        return "ClusterPersistenceConfiguration[clusterName=" + ClusterRegistries.redact(clusterName) + ", resourceGroupName=" + resourceGroupName
                + ", registryKeyPath=" + registryKeyPath + ", maxValueSizeKB=" + maxValueSizeKB
                + ", enableCompression=" + enableCompression + ", compressionDictionary=" + compressionDictionary
                + ", replicationMode=" + replicationMode + ", failoverTimeout=" + failoverTimeout
                + ", nodeAffinity=" + nodeAffinity + ", minimumNodes=" + minimumNodes
                + ", enableEncryption=" + enableEncryption + (enableEncryption ? ", encryptionAlgorithm=" + encryptionAlgorithm
                + ", keyManagementService=" + keyManagement + " " + keySource : "")
                + ", conflictResolution=" + conflictResolution + ", healthCheckInterval=" + healthCheckInterval
                + ", maxRetries=" + maxRetries + ", retryDelay=" + retryDelay + ", enableLocalCache=" + enableLocalCache
                + (enableLocalCache ? ", cacheSize=" + cacheSize + ", cacheTTL=" + cacheTtl + ", preloadCache=" + preloadCache
                + ", cachedReads=" + cachedReads + (cachedReadsByType.isEmpty() ? "" : " " + new TreeMap<>(cachedReadsByType)) : "")
                + (enableAuditLogging ? ", auditLogPath=" + auditLogPath : "")
                + (backupEnabled ? ", backupInterval=" + backupInterval + ", backupRetention=" + backupRetention + ", backupPath=" + backupPath : "")
                + (sites.isEmpty() ? "" : ", sites=" + redactedSites() + ", localSite=" + localSite + ", preferredSite=" + preferredSite + ", siteReplicationDelay="
                + siteReplicationDelay + ", maxClockSkew=" + maxClockSkew + ", conflictResolutionWindow=" + conflictResolutionWindow
                + ", crossSiteConflicts=" + crossSiteConflicts
                + (siteRegistryOptions.isEmpty() ? "" : ", siteRegistryOptions=" + siteRegistryOptions.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue().keySet()).toList()))
                + (codec == JacksonEntityCodec.defaults() ? "" : ", codec=" + codec)
                + (registryOptions.isEmpty() ? "" : ", registryOptions=" + registryOptions.keySet()) + "]";
    }

    private Map<String, String> redactedSites() {
        Map<String, String> shown = new TreeMap<>();
        sites.forEach((name, uri) -> shown.put(name, ClusterRegistries.redact(uri)));
        return shown;
    }

    // ---- builder -----------------------------------------------------------------------------

    /** Collects settings; {@link #build()} validates them all. */
    public static final class Builder {

        private String clusterName = DEFAULT_CLUSTER;
        private String resourceGroupName;
        private String registryKeyPath;
        private int maxValueSizeKB = 64;
        private boolean enableCompression = true;
        private Boolean compressionDictionary;
        private ReplicationMode replicationMode = ReplicationMode.SYNCHRONOUS;
        private Duration failoverTimeout = Duration.ofSeconds(30);
        private List<String> nodeAffinity = List.of();
        private int minimumNodes = 1;
        private boolean enableEncryption;
        private String encryptionAlgorithm = "AES256";
        private KeyManagement keyManagement = KeyManagement.NONE;
        private KeySource customKeySource;
        private Path keyStorePath;
        private String keyStoreType = "BCFKS";
        private char[] keyStorePassword;
        private String keyStoreActiveAlias;
        private List<char[]> passphrases = List.of();
        private ConflictResolution conflictResolution = ConflictResolution.OPTIMISTIC;
        private final Map<Class<?>, ConflictResolver<?>> conflictResolvers = new LinkedHashMap<>();
        private Duration healthCheckInterval = Duration.ofSeconds(10);
        private int maxRetries = 3;
        private Duration retryDelay = Duration.ofSeconds(1);
        private boolean enableLocalCache;
        private int cacheSize = 1000;
        private Duration cacheTtl = Duration.ofMinutes(5);
        private boolean preloadCache;
        private CachedReads cachedReads = CachedReads.AUTO;
        private final Map<String, CachedReads> cachedReadsByType = new LinkedHashMap<>();
        private ClusterHooks hooks = ClusterHooks.NONE;
        private Executor executor;
        private EntityCodec codec = JacksonEntityCodec.defaults();
        private final Map<String, String> registryOptions = new LinkedHashMap<>();
        private final Set<String> explicit = new LinkedHashSet<>();
        private boolean enableAuditLogging;
        private Path auditLogPath;
        private boolean backupEnabled;
        private Duration backupInterval = Duration.ofHours(1);
        private int backupRetention = 24;
        private Path backupPath;
        private final Map<String, String> sites = new LinkedHashMap<>();
        private final Map<String, Map<String, String>> siteRegistryOptions = new LinkedHashMap<>();
        private String localSite;
        private String preferredSite;
        private Duration siteReplicationDelay = Duration.ofSeconds(1);
        private Duration maxClockSkew = Duration.ofSeconds(5);
        private Duration conflictResolutionWindow = Duration.ofHours(24);
        private CrossSiteConflicts crossSiteConflicts = CrossSiteConflicts.LAST_WRITE_WINS;

        private Builder() {
        }

        private Builder mark(String key) {
            explicit.add(key);
            return this;
        }

        /**
         * The registry to open: a URI ({@code embedded:<dir>}, {@code zookeeper://…},
         * {@code clusapi://<cluster>}) or a bare Windows cluster name (→ {@code clusapi://<name>}).
         * Default {@value #DEFAULT_CLUSTER}.
         */
        public Builder clusterName(String clusterName) {
            this.clusterName = clusterName;
            return mark(CLUSTER_NAME);
        }

        /** Required: the cluster resource group owning the data; the first segment of the storage root. */
        public Builder resourceGroupName(String resourceGroupName) {
            this.resourceGroupName = resourceGroupName;
            return mark(RESOURCE_GROUP_NAME);
        }

        /** Required: the key path of the data below the resource group, {@code \} or {@code /} separated. */
        public Builder registryKeyPath(String registryKeyPath) {
            this.registryKeyPath = registryKeyPath;
            return mark(REGISTRY_KEY_PATH);
        }

        /** Largest stored entity (after encoding), 1..1024 KiB; default 64. */
        public Builder maxValueSizeKB(int kb) {
            this.maxValueSizeKB = kb;
            return mark(MAX_VALUE_SIZE_KB);
        }

        public Builder enableCompression(boolean on) {
            this.enableCompression = on;
            return mark(ENABLE_COMPRESSION);
        }

        /** Whether a per-type zstd dictionary is trained and used; default: same as enableCompression. */
        public Builder compressionDictionary(boolean on) {
            this.compressionDictionary = on;
            return mark(COMPRESSION_DICTIONARY);
        }

        public Builder replicationMode(ReplicationMode mode) {
            this.replicationMode = mode;
            return mark(REPLICATION_MODE);
        }

        /** Upper bound on the whole wait of an operation retrying a retryable failure; default 30 s. */
        public Builder failoverTimeout(Duration timeout) {
            this.failoverTimeout = timeout;
            return mark(FAILOVER_TIMEOUT);
        }

        /** Preferred nodes; each must be a member of the cluster; empty (default) = all nodes. */
        public Builder nodeAffinity(List<String> nodes) {
            this.nodeAffinity = nodes == null ? null : new ArrayList<>(nodes);
            return mark(NODE_AFFINITY);
        }

        /** Writes are refused (retryably) while fewer cluster nodes are up; default 1. */
        public Builder minimumNodes(int nodes) {
            this.minimumNodes = nodes;
            return mark(MINIMUM_NODES);
        }

        public Builder enableEncryption(boolean on) {
            this.enableEncryption = on;
            return mark(ENABLE_ENCRYPTION);
        }

        /** {@code AES256} (AES-256-GCM), the only algorithm; default {@code AES256}. */
        public Builder encryptionAlgorithm(String algorithm) {
            this.encryptionAlgorithm = algorithm;
            return mark(ENCRYPTION_ALGORITHM);
        }

        /** Keys from a key store file ({@code keyManagementService=KeyStore}). */
        public Builder keyStore(Path file, String type, char[] password, String activeAlias) {
            this.keyManagement = KeyManagement.KEY_STORE;
            this.keyStorePath = file;
            this.keyStoreType = type;
            this.keyStorePassword = password == null ? null : password.clone();
            this.keyStoreActiveAlias = activeAlias;
            mark(KEY_STORE_PATH);
            return mark(KEY_MANAGEMENT_SERVICE);
        }

        /** Keys from passphrases, current first ({@code keyManagementService=Passphrase}). */
        public Builder passphrases(List<char[]> passphrases) {
            this.keyManagement = KeyManagement.PASSPHRASE;
            this.passphrases = passphrases == null ? null : passphrases.stream().map(p -> p == null ? null : p.clone()).toList();
            mark(PASSPHRASE);
            return mark(KEY_MANAGEMENT_SERVICE);
        }

        /** Keys from any {@link KeySource} (a key management service client). */
        public Builder keySource(KeySource source) {
            this.keyManagement = KeyManagement.CUSTOM;
            this.customKeySource = source;
            return mark(KEY_MANAGEMENT_SERVICE);
        }

        public Builder conflictResolution(ConflictResolution resolution) {
            this.conflictResolution = resolution;
            return mark(CONFLICT_RESOLUTION);
        }

        /** The merge function for one entity class under {@link ConflictResolution#MERGE}. */
        public <T> Builder conflictResolver(Class<T> type, ConflictResolver<T> resolver) {
            conflictResolvers.put(Objects.requireNonNull(type, "type"), Objects.requireNonNull(resolver, "resolver"));
            return this;
        }

        public Builder healthCheckInterval(Duration interval) {
            this.healthCheckInterval = interval;
            return mark(HEALTH_CHECK_INTERVAL);
        }

        public Builder maxRetries(int retries) {
            this.maxRetries = retries;
            return mark(MAX_RETRIES);
        }

        /** The first backoff delay; it doubles with every retry (capped by what is left of failoverTimeout). */
        public Builder retryDelay(Duration delay) {
            this.retryDelay = delay;
            return mark(RETRY_DELAY);
        }

        public Builder enableLocalCache(boolean on) {
            this.enableLocalCache = on;
            return mark(ENABLE_LOCAL_CACHE);
        }

        public Builder cacheSize(int entries) {
            this.cacheSize = entries;
            return mark(CACHE_SIZE);
        }

        public Builder cacheTTL(Duration ttl) {
            this.cacheTtl = ttl;
            return mark(CACHE_TTL);
        }

        public Builder preloadCache(boolean on) {
            this.preloadCache = on;
            return mark(PRELOAD_CACHE);
        }

        /**
         * What a cache hit returns, for every store: {@link CachedReads#AUTO} (default) shares the cached
         * instance of deeply immutable types and copies others; {@code COPY} and {@code SHARE} force
         * either. Only with the cache on.
         */
        public Builder cachedReads(CachedReads mode) {
            this.cachedReads = mode;
            return mark(CACHED_READS);
        }

        /** {@link #cachedReads(CachedReads)} for the store of one entity type, whatever the factory-wide setting. */
        public Builder cachedReads(String typeName, CachedReads mode) {
            cachedReadsByType.put(Objects.requireNonNull(typeName, "typeName"), mode);
            return this;
        }

        /** Node name and extra health check supplied by the hosting environment. */
        public Builder hooks(ClusterHooks hooks) {
            this.hooks = Objects.requireNonNull(hooks, "hooks");
            return this;
        }

        /**
         * Runs the stores' async twins ({@code saveAsync}, {@code getAsync}, …) on {@code executor}, which
         * the caller keeps owning: closing a factory does not shut it down. Default: a pool of daemon
         * threads owned by the factory, created as needed and shut down when the factory closes.
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * Encodes entities with {@code codec} instead of {@link JacksonEntityCodec#defaults()}: e.g.
         * {@code JacksonEntityCodec.withModules(...)} or your own {@link EntityCodec}. Each entity type
         * records the id of the codec it was written with; opening it with a codec of another id is
         * refused ({@link dev.reliablestore.codec.CodecMismatchException}).
         */
        public Builder codec(EntityCodec codec) {
            this.codec = Objects.requireNonNull(codec, "codec");
            return this;
        }

        /** Records every write, delete and transaction outcome in a hash-chained log; needs {@link #auditLogPath}. Default off. */
        public Builder enableAuditLogging(boolean on) {
            this.enableAuditLogging = on;
            return mark(ENABLE_AUDIT_LOGGING);
        }

        /** The directory of the audit logs; each node writes {@code audit-<node>.log} there. */
        public Builder auditLogPath(Path directory) {
            this.auditLogPath = directory;
            return mark(AUDIT_LOG_PATH);
        }

        /** Writes a backup every {@link #backupInterval} on the primary node; needs {@link #backupPath}. Default off. */
        public Builder backupEnabled(boolean on) {
            this.backupEnabled = on;
            return mark(BACKUP_ENABLED);
        }

        /** Time between scheduled backups, 1 s .. 7 days; default 1 h. */
        public Builder backupInterval(Duration interval) {
            this.backupInterval = interval;
            return mark(BACKUP_INTERVAL);
        }

        /** Scheduled backups kept, 1 .. 10,000; default 24. */
        public Builder backupRetention(int count) {
            this.backupRetention = count;
            return mark(BACKUP_RETENTION);
        }

        /** The directory scheduled backups are written to. */
        public Builder backupPath(Path directory) {
            this.backupPath = directory;
            return mark(BACKUP_PATH);
        }

        /**
         * A site of a multi-site store (docs/geo-replication.md): its name (1..64 characters of
         * {@code A-Z a-z 0-9 _ -}) and its registry URI. Give every site, this one included, and
         * {@link #localSite}.
         */
        public Builder site(String name, String registryUri) {
            Objects.requireNonNull(name, "name");
            if (sites.put(name, Objects.requireNonNull(registryUri, "registryUri")) != null) {
                throw bad(SITES_PREFIX + name, registryUri, "site " + name + " is given twice");
            }
            return this;
        }

        /** An option of another site's registry ({@code sites.<site>.registry.<name>}); the local site's takes {@link #registryOption}. */
        public Builder siteRegistryOption(String site, String name, String value) {
            siteRegistryOptions.computeIfAbsent(Objects.requireNonNull(site, "site"), s -> new LinkedHashMap<>())
                    .put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** The site this factory writes to: one of the {@link #site}s. */
        public Builder localSite(String name) {
            this.localSite = name;
            return mark(LOCAL_SITE);
        }

        /**
         * Where a store's {@code preferredReads()} are answered: one of the {@link #site}s; default
         * the local site (docs/geo-replication.md, Reads).
         */
        public Builder preferredSite(String name) {
            this.preferredSite = name;
            return mark(PREFERRED_SITE);
        }

        /** How long a shipper gathers batches before it sends them to another site, 0 .. 1 min; default 1 s. */
        public Builder siteReplicationDelay(Duration delay) {
            this.siteReplicationDelay = delay;
            return mark(SITE_REPLICATION_DELAY);
        }

        /** How far ahead of this site's clock another site's stamp may be, 100 ms .. 1 h; default 5 s. */
        public Builder maxClockSkew(Duration skew) {
            this.maxClockSkew = skew;
            return mark(MAX_CLOCK_SKEW);
        }

        /** How long each site keeps tombstones, 1 min .. 30 days; default 24 h. */
        public Builder conflictResolutionWindow(Duration window) {
            this.conflictResolutionWindow = window;
            return mark(CONFLICT_RESOLUTION_WINDOW);
        }

        /** What happens to the write that loses a conflict between sites; default {@link CrossSiteConflicts#LAST_WRITE_WINS}. */
        public Builder crossSiteConflicts(CrossSiteConflicts policy) {
            this.crossSiteConflicts = policy;
            return mark(CROSS_SITE_CONFLICTS);
        }

        /** An option for the registry backend (refused by the backend if it does not know it). */
        public Builder registryOption(String name, String value) {
            registryOptions.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        // string form ---------------------------------------------------------------------------

        /** Sets what the string form gave; the ranges and rules are checked by {@link #build()}, as for the methods above. */
        private void apply(OptionValues v) {
            if (v.isSet(O_CLUSTER_NAME)) {
                clusterName(v.get(O_CLUSTER_NAME));
            }
            if (v.isSet(O_RESOURCE_GROUP_NAME)) {
                resourceGroupName(v.get(O_RESOURCE_GROUP_NAME));
            }
            if (v.isSet(O_REGISTRY_KEY_PATH)) {
                registryKeyPath(v.get(O_REGISTRY_KEY_PATH));
            }
            if (v.isSet(O_MAX_VALUE_SIZE_KB)) {
                maxValueSizeKB(asInt(O_MAX_VALUE_SIZE_KB, v));
            }
            if (v.isSet(O_ENABLE_COMPRESSION)) {
                enableCompression(v.get(O_ENABLE_COMPRESSION));
            }
            if (v.isSet(O_COMPRESSION_DICTIONARY)) {
                compressionDictionary(v.get(O_COMPRESSION_DICTIONARY));
            }
            if (v.isSet(O_REPLICATION_MODE)) {
                replicationMode(v.get(O_REPLICATION_MODE));
            }
            if (v.isSet(O_FAILOVER_TIMEOUT)) {
                failoverTimeout(v.get(O_FAILOVER_TIMEOUT));
            }
            if (v.isSet(O_NODE_AFFINITY)) {
                String list = v.get(O_NODE_AFFINITY);
                nodeAffinity(list.isEmpty() ? List.of() : List.of(list.split("\\s*,\\s*")));
            }
            if (v.isSet(O_MINIMUM_NODES)) {
                minimumNodes(asInt(O_MINIMUM_NODES, v));
            }
            if (v.isSet(O_ENABLE_ENCRYPTION)) {
                enableEncryption(v.get(O_ENABLE_ENCRYPTION));
            }
            if (v.isSet(O_ENCRYPTION_ALGORITHM)) {
                encryptionAlgorithm(v.get(O_ENCRYPTION_ALGORITHM));
            }
            if (v.isSet(O_KEY_MANAGEMENT_SERVICE)) {
                keyManagement = v.get(O_KEY_MANAGEMENT_SERVICE);
                mark(KEY_MANAGEMENT_SERVICE);
            }
            if (v.isSet(O_KEY_STORE_PATH)) {
                keyStorePath = parsePath(KEY_STORE_PATH, v.get(O_KEY_STORE_PATH));
                mark(KEY_STORE_PATH);
            }
            if (v.isSet(O_KEY_STORE_TYPE)) {
                keyStoreType = v.get(O_KEY_STORE_TYPE);
                mark(KEY_STORE_TYPE);
            }
            if (v.isSet(O_KEY_STORE_PASSWORD)) {
                keyStorePassword = v.get(O_KEY_STORE_PASSWORD).toCharArray();
                mark(KEY_STORE_PASSWORD);
            }
            if (v.isSet(O_KEY_STORE_ACTIVE_ALIAS)) {
                keyStoreActiveAlias = v.get(O_KEY_STORE_ACTIVE_ALIAS);
                mark(KEY_STORE_ACTIVE_ALIAS);
            }
            if (v.isSet(O_PASSPHRASE) || v.isSet(O_PREVIOUS_PASSPHRASES)) {
                List<char[]> all = new ArrayList<>();
                all.add(v.isSet(O_PASSPHRASE) ? v.get(O_PASSPHRASE).toCharArray() : null);
                for (String ref : v.get(O_PREVIOUS_PASSPHRASES).split("\\s*,\\s*")) {
                    if (!ref.isEmpty()) {
                        all.add(secret(PREVIOUS_PASSPHRASES, ref));
                    }
                }
                passphrases = all;
                if (v.isSet(O_PASSPHRASE)) {
                    mark(PASSPHRASE);
                }
                if (v.isSet(O_PREVIOUS_PASSPHRASES)) {
                    mark(PREVIOUS_PASSPHRASES);
                }
            }
            if (v.isSet(O_CONFLICT_RESOLUTION)) {
                conflictResolution(v.get(O_CONFLICT_RESOLUTION));
            }
            if (v.isSet(O_HEALTH_CHECK_INTERVAL)) {
                healthCheckInterval(v.get(O_HEALTH_CHECK_INTERVAL));
            }
            if (v.isSet(O_MAX_RETRIES)) {
                maxRetries(asInt(O_MAX_RETRIES, v));
            }
            if (v.isSet(O_RETRY_DELAY)) {
                retryDelay(v.get(O_RETRY_DELAY));
            }
            if (v.isSet(O_ENABLE_LOCAL_CACHE)) {
                enableLocalCache(v.get(O_ENABLE_LOCAL_CACHE));
            }
            if (v.isSet(O_CACHE_SIZE)) {
                cacheSize(asInt(O_CACHE_SIZE, v));
            }
            if (v.isSet(O_CACHE_TTL)) {
                cacheTTL(v.get(O_CACHE_TTL));
            }
            if (v.isSet(O_PRELOAD_CACHE)) {
                preloadCache(v.get(O_PRELOAD_CACHE));
            }
            if (v.isSet(O_CACHED_READS)) {
                cachedReads(v.get(O_CACHED_READS));
            }
            if (v.isSet(O_ENABLE_AUDIT_LOGGING)) {
                enableAuditLogging(v.get(O_ENABLE_AUDIT_LOGGING));
            }
            if (v.isSet(O_AUDIT_LOG_PATH)) {
                auditLogPath(parsePath(AUDIT_LOG_PATH, v.get(O_AUDIT_LOG_PATH)));
            }
            if (v.isSet(O_BACKUP_ENABLED)) {
                backupEnabled(v.get(O_BACKUP_ENABLED));
            }
            if (v.isSet(O_BACKUP_INTERVAL)) {
                backupInterval(v.get(O_BACKUP_INTERVAL));
            }
            if (v.isSet(O_BACKUP_RETENTION)) {
                backupRetention(asInt(O_BACKUP_RETENTION, v));
            }
            if (v.isSet(O_BACKUP_PATH)) {
                backupPath(parsePath(BACKUP_PATH, v.get(O_BACKUP_PATH)));
            }
            if (v.isSet(O_LOCAL_SITE)) {
                localSite(v.get(O_LOCAL_SITE));
            }
            if (v.isSet(O_PREFERRED_SITE)) {
                preferredSite(v.get(O_PREFERRED_SITE));
            }
            if (v.isSet(O_SITE_REPLICATION_DELAY)) {
                siteReplicationDelay(v.get(O_SITE_REPLICATION_DELAY));
            }
            if (v.isSet(O_MAX_CLOCK_SKEW)) {
                maxClockSkew(v.get(O_MAX_CLOCK_SKEW));
            }
            if (v.isSet(O_CONFLICT_RESOLUTION_WINDOW)) {
                conflictResolutionWindow(v.get(O_CONFLICT_RESOLUTION_WINDOW));
            }
            if (v.isSet(O_CROSS_SITE_CONFLICTS)) {
                crossSiteConflicts(v.get(O_CROSS_SITE_CONFLICTS));
            }
        }

        private static int asInt(Option<Long> option, OptionValues v) {
            long n = v.get(option);
            if (n != (int) n) {
                throw bad(option.name(), n, "is out of range " + option.limits());
            }
            return (int) n;
        }

        private static char[] secret(String key, String reference) {
            try {
                return Secrets.resolve(reference, false).toCharArray();
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException("option " + key + " of the cluster-registry provider: " + e.getMessage());
            }
        }

        // validation ----------------------------------------------------------------------------

        /**
         * Validates every setting and their combinations.
         *
         * @throws ConfigurationException naming the option, the value and the rule
         */
        public ClusterPersistenceConfiguration build() {
            validateSites();
            if (clusterName == null || clusterName.isBlank()) {
                throw bad(CLUSTER_NAME, clusterName, "must be a registry URI such as " + DEFAULT_CLUSTER + " or a cluster name");
            }
            if (!clusterName.contains(":")) {
                clusterName = "clusapi://" + clusterName;
            }
            if (resourceGroupName == null) {
                throw new ConfigurationException("option " + RESOURCE_GROUP_NAME + " is required (the cluster resource group "
                        + "owning the data, e.g. ReliableStore-RG)");
            }
            if (registryKeyPath == null) {
                throw new ConfigurationException("option " + REGISTRY_KEY_PATH + " is required (the key path of the data, "
                        + "e.g. Software\\ReliableStore\\Data)");
            }
            RegistryPath root;
            try {
                RegistryPath.checkName(resourceGroupName, RESOURCE_GROUP_NAME);
                RegistryPath keyPath = RegistryPath.parse(registryKeyPath.replace('\\', '/'));
                if (keyPath.isRoot()) {
                    throw bad(REGISTRY_KEY_PATH, registryKeyPath, "must name at least one key");
                }
                root = RegistryPath.of(resourceGroupName).resolve(keyPath);
                if (root.depth() + StorageLayout.DEPTH_BELOW_ROOT > RegistryPath.MAX_DEPTH) {
                    throw bad(REGISTRY_KEY_PATH, registryKeyPath, "is " + root.depth() + " keys deep with the resource group; "
                            + "the limit is " + (RegistryPath.MAX_DEPTH - StorageLayout.DEPTH_BELOW_ROOT) + " so the layout's keys fit below it");
                }
                if (root.length() > StorageLayout.maxRootLength()) {
                    throw bad(REGISTRY_KEY_PATH, registryKeyPath, "is " + root.length() + " characters long with the resource "
                            + "group; at most " + StorageLayout.maxRootLength() + " leave room for the layout's keys and type names");
                }
            } catch (RegistryArgumentException e) {
                throw new ConfigurationException("option " + RESOURCE_GROUP_NAME + "/" + REGISTRY_KEY_PATH + " is invalid: "
                        + e.getMessage(), e);
            }
            if (maxValueSizeKB < 1 || maxValueSizeKB > MAX_VALUE_SIZE_KB_LIMIT) {
                throw bad(MAX_VALUE_SIZE_KB, maxValueSizeKB, "must be 1.." + MAX_VALUE_SIZE_KB_LIMIT
                        + " (KiB; a registry value is at most 1 MiB)");
            }
            if (Boolean.TRUE.equals(compressionDictionary) && !enableCompression) {
                throw bad(COMPRESSION_DICTIONARY, true, "needs " + ENABLE_COMPRESSION + "=true");
            }
            require(REPLICATION_MODE, replicationMode);
            requireDuration(FAILOVER_TIMEOUT, failoverTimeout, Duration.ofMillis(1));
            if (nodeAffinity == null) {
                throw bad(NODE_AFFINITY, null, "must be a list (empty = all nodes)");
            }
            if (nodeAffinity.size() > MAX_NODES || new LinkedHashSet<>(nodeAffinity).size() != nodeAffinity.size()
                    || nodeAffinity.stream().anyMatch(n -> n == null || n.isBlank())) {
                throw bad(NODE_AFFINITY, nodeAffinity, "must list 0.." + MAX_NODES + " distinct, non-blank node names");
            }
            if (minimumNodes < 1 || minimumNodes > MAX_NODES) {
                throw bad(MINIMUM_NODES, minimumNodes, "must be 1.." + MAX_NODES);
            }
            KeySource source = validateEncryption();
            require(CONFLICT_RESOLUTION, conflictResolution);
            if (conflictResolution == ConflictResolution.MERGE && conflictResolvers.isEmpty()) {
                throw bad(CONFLICT_RESOLUTION, "Merge", "needs a ConflictResolver registered with the builder's "
                        + "conflictResolver(Class, ConflictResolver) for each entity class stored");
            }
            if (crossSiteConflicts == CrossSiteConflicts.MERGE && conflictResolvers.isEmpty()) {
                throw bad(CROSS_SITE_CONFLICTS, "Merge", "needs a ConflictResolver registered with the builder's "
                        + "conflictResolver(Class, ConflictResolver) for each entity class stored");
            }
            if (conflictResolution != ConflictResolution.MERGE && crossSiteConflicts != CrossSiteConflicts.MERGE
                    && !conflictResolvers.isEmpty()) {
                throw bad(CONFLICT_RESOLUTION, conflictResolution, "is not Merge (nor is " + CROSS_SITE_CONFLICTS
                        + "), yet conflict resolvers are registered for "
                        + conflictResolvers.keySet().stream().map(Class::getSimpleName).toList() + "; they would never be used");
            }
            requireDuration(HEALTH_CHECK_INTERVAL, healthCheckInterval, MIN_HEALTH_CHECK_INTERVAL);
            if (maxRetries < 0 || maxRetries > MAX_RETRIES_LIMIT) {
                throw bad(MAX_RETRIES, maxRetries, "must be 0.." + MAX_RETRIES_LIMIT);
            }
            requireDuration(RETRY_DELAY, retryDelay, Duration.ZERO);
            if (maxRetries > 0 && retryDelay.compareTo(failoverTimeout) >= 0) {
                throw bad(RETRY_DELAY, retryDelay, "must be shorter than " + FAILOVER_TIMEOUT + " (" + failoverTimeout
                        + ") or no retry could ever happen");
            }
            if (!enableLocalCache) {
                for (String k : List.of(CACHE_SIZE, CACHE_TTL, PRELOAD_CACHE)) {
                    if (explicit.contains(k)) {
                        throw bad(k, k.equals(CACHE_SIZE) ? cacheSize : k.equals(CACHE_TTL) ? cacheTtl : preloadCache,
                                "is set but " + ENABLE_LOCAL_CACHE + " is false");
                    }
                }
            }
            validateCachedReads();
            if (cacheSize < 1 || cacheSize > MAX_CACHE_SIZE) {
                throw bad(CACHE_SIZE, cacheSize, "must be 1.." + MAX_CACHE_SIZE + " entries");
            }
            requireDuration(CACHE_TTL, cacheTtl, Duration.ofMillis(1));
            validateAuditAndBackups();
            return new ClusterPersistenceConfiguration(this, root, source);
        }

        private static String uri(String nameOrUri) {
            return nameOrUri.contains(":") ? nameOrUri : "clusapi://" + nameOrUri;
        }

        /** The rules of a multi-site store; with sites, {@link #clusterName} becomes the local site's URI. */
        private void validateSites() {
            if (sites.isEmpty()) {
                for (String k : List.of(LOCAL_SITE, PREFERRED_SITE, SITE_REPLICATION_DELAY, MAX_CLOCK_SKEW, CONFLICT_RESOLUTION_WINDOW,
                        CROSS_SITE_CONFLICTS)) {
                    if (explicit.contains(k)) {
                        throw bad(k, k.equals(LOCAL_SITE) ? localSite : k.equals(PREFERRED_SITE) ? preferredSite
                                : k.equals(SITE_REPLICATION_DELAY) ? siteReplicationDelay
                                : k.equals(MAX_CLOCK_SKEW) ? maxClockSkew : k.equals(CROSS_SITE_CONFLICTS) ? crossSiteConflicts
                                : conflictResolutionWindow,
                                "is set but no sites are configured (" + SITES_PREFIX + "<site> = <registry URI>, one per site)");
                    }
                }
                if (!siteRegistryOptions.isEmpty()) {
                    String site = siteRegistryOptions.keySet().iterator().next();
                    throw new ConfigurationException("option " + SITES_PREFIX + site + "." + REGISTRY_OPTION_PREFIX + "* is set but no"
                            + " sites are configured (" + SITES_PREFIX + "<site> = <registry URI>, one per site)");
                }
                return;
            }
            if (sites.size() < MIN_SITES || sites.size() > MAX_SITES) {
                throw bad("sites", sites.keySet(), "must name " + MIN_SITES + ".." + MAX_SITES + " sites, this one included");
            }
            Map<String, String> byUri = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : sites.entrySet()) {
                String key = SITES_PREFIX + e.getKey();
                try {
                    SiteReplication.checkSiteName(e.getKey());
                } catch (IllegalArgumentException bad) {
                    throw new ConfigurationException("option " + key + " does not name a site: " + bad.getMessage(), bad);
                }
                if (e.getValue().isBlank()) {
                    throw bad(key, e.getValue(), "must be the site's registry URI, e.g. zookeeper://zk1:2181/reliablestore");
                }
                String uri = uri(e.getValue());
                e.setValue(uri);
                try {
                    // a remote site's registry is opened in the background, whose retries would take a bad query for an outage
                    ClusterRegistries.queryOptions(new java.net.URI(uri));
                } catch (java.net.URISyntaxException | RegistryArgumentException malformed) {
                    throw new ConfigurationException("option " + key + " is not a registry URI that opens: "
                            + ClusterRegistries.redact(malformed.getMessage())); // no cause: its message shows the URI as typed
                }
                String twin = byUri.put(uri, e.getKey());
                if (twin != null) {
                    throw bad(key, ClusterRegistries.redact(uri), "is also the registry of site " + twin + "; every site has a registry of its own");
                }
            }
            if (localSite == null) {
                throw new ConfigurationException("option " + LOCAL_SITE + " is required with sites: which of " + sites.keySet()
                        + " this factory writes to");
            }
            if (!sites.containsKey(localSite)) {
                throw bad(LOCAL_SITE, localSite, "must be one of the sites " + sites.keySet());
            }
            if (explicit.contains(PREFERRED_SITE) && !sites.containsKey(preferredSite)) {
                throw bad(PREFERRED_SITE, preferredSite, "must be one of the sites " + sites.keySet());
            }
            String local = sites.get(localSite);
            if (explicit.contains(CLUSTER_NAME) && clusterName != null && !uri(clusterName).equals(local)) {
                throw bad(CLUSTER_NAME, ClusterRegistries.redact(clusterName), "differs from " + SITES_PREFIX + localSite + " = "
                        + ClusterRegistries.redact(local) + ", the registry of the"
                        + " local site (leave " + CLUSTER_NAME + " out with sites)");
            }
            clusterName = local;
            for (String site : siteRegistryOptions.keySet()) {
                if (!sites.containsKey(site)) {
                    throw new ConfigurationException("option " + SITES_PREFIX + site + "." + REGISTRY_OPTION_PREFIX + "* names no site of "
                            + sites.keySet());
                }
                if (site.equals(localSite)) {
                    throw new ConfigurationException("option " + SITES_PREFIX + site + "." + REGISTRY_OPTION_PREFIX + "* is for another"
                            + " site's registry; the local site's registry takes " + REGISTRY_OPTION_PREFIX + "<option>");
                }
                // here, not when that registry is opened: it is opened in the background, whose retries would take the
                // refusal for an outage and leave the site unreachable for good
                Set<String> accepts = ClusterRegistries.optionNames(sites.get(site));
                for (String option : siteRegistryOptions.get(site).keySet()) {
                    if (!accepts.isEmpty() && !accepts.contains(option)) {
                        throw new ConfigurationException("option " + SITES_PREFIX + site + "." + REGISTRY_OPTION_PREFIX + option
                                + " is not an option of site " + site + "'s registry (" + ClusterRegistries.redact(sites.get(site))
                                + "); it takes " + new java.util.TreeSet<>(accepts));
                    }
                }
            }
            if (siteReplicationDelay == null || siteReplicationDelay.isNegative()
                    || siteReplicationDelay.compareTo(MAX_SITE_REPLICATION_DELAY) > 0) {
                throw bad(SITE_REPLICATION_DELAY, siteReplicationDelay, "must be a duration from 0 to " + MAX_SITE_REPLICATION_DELAY);
            }
            if (maxClockSkew == null || maxClockSkew.compareTo(MIN_CLOCK_SKEW) < 0 || maxClockSkew.compareTo(MAX_CLOCK_SKEW_LIMIT) > 0) {
                throw bad(MAX_CLOCK_SKEW, maxClockSkew, "must be a duration from " + MIN_CLOCK_SKEW + " to " + MAX_CLOCK_SKEW_LIMIT);
            }
            if (conflictResolutionWindow == null || conflictResolutionWindow.compareTo(MIN_CONFLICT_RESOLUTION_WINDOW) < 0
                    || conflictResolutionWindow.compareTo(MAX_CONFLICT_RESOLUTION_WINDOW) > 0) {
                throw bad(CONFLICT_RESOLUTION_WINDOW, conflictResolutionWindow, "must be a duration from " + MIN_CONFLICT_RESOLUTION_WINDOW
                        + " to " + MAX_CONFLICT_RESOLUTION_WINDOW);
            }
            if (crossSiteConflicts == null) {
                throw bad(CROSS_SITE_CONFLICTS, null, "must be LastWriteWins, ConflictRecord or Merge");
            }
        }

        private void validateCachedReads() {
            require(CACHED_READS, cachedReads);
            for (Map.Entry<String, CachedReads> e : cachedReadsByType.entrySet()) {
                String key = CACHED_READS_PREFIX + e.getKey();
                require(key, e.getValue());
                try {
                    EntityIds.requireValidTypeName(e.getKey());
                } catch (InvalidIdException bad) {
                    throw new ConfigurationException("option " + key + " does not name an entity type: " + bad.getMessage(), bad);
                }
            }
            if (!enableLocalCache && (explicit.contains(CACHED_READS) || !cachedReadsByType.isEmpty())) {
                String key = explicit.contains(CACHED_READS) ? CACHED_READS : CACHED_READS_PREFIX + cachedReadsByType.keySet().iterator().next();
                throw bad(key, cachedReads(key), "is set but " + ENABLE_LOCAL_CACHE + " is false (it says what a cache hit returns)");
            }
        }

        private CachedReads cachedReads(String key) {
            return key.equals(CACHED_READS) ? cachedReads : cachedReadsByType.get(key.substring(CACHED_READS_PREFIX.length()));
        }

        private void validateAuditAndBackups() {
            if (enableAuditLogging && auditLogPath == null) {
                throw new ConfigurationException(ENABLE_AUDIT_LOGGING + "=true needs " + AUDIT_LOG_PATH
                        + " (the directory the audit log is written to)");
            }
            if (!enableAuditLogging && explicit.contains(AUDIT_LOG_PATH)) {
                throw bad(AUDIT_LOG_PATH, auditLogPath, "is set but " + ENABLE_AUDIT_LOGGING + " is false");
            }
            if (backupEnabled && backupPath == null) {
                throw new ConfigurationException(BACKUP_ENABLED + "=true needs " + BACKUP_PATH + " (the directory backups are written to)");
            }
            // an empty path is the working directory: an unset variable (${AUDIT_DIR:}) would put the audit log and the
            // backups where a container may not keep them, silently
            if (auditLogPath != null && auditLogPath.toString().isBlank()) {
                throw bad(AUDIT_LOG_PATH, "", "must name a directory");
            }
            if (backupPath != null && backupPath.toString().isBlank()) {
                throw bad(BACKUP_PATH, "", "must name a directory");
            }
            if (!backupEnabled) {
                for (String k : List.of(BACKUP_INTERVAL, BACKUP_RETENTION, BACKUP_PATH)) {
                    if (explicit.contains(k)) {
                        throw bad(k, k.equals(BACKUP_INTERVAL) ? backupInterval : k.equals(BACKUP_RETENTION) ? backupRetention : backupPath,
                                "is set but " + BACKUP_ENABLED + " is false");
                    }
                }
            }
            if (backupInterval == null || backupInterval.compareTo(MIN_BACKUP_INTERVAL) < 0 || backupInterval.compareTo(MAX_BACKUP_INTERVAL) > 0) {
                throw bad(BACKUP_INTERVAL, backupInterval, "must be a duration from " + MIN_BACKUP_INTERVAL + " to " + MAX_BACKUP_INTERVAL);
            }
            if (backupRetention < 1 || backupRetention > MAX_BACKUP_RETENTION) {
                throw bad(BACKUP_RETENTION, backupRetention, "must be 1.." + MAX_BACKUP_RETENTION + " backups");
            }
        }

        private static Path parsePath(String key, String value) {
            try {
                return Path.of(value);
            } catch (java.nio.file.InvalidPathException e) {
                throw new ConfigurationException("option " + key + " = \"" + value + "\" is not a valid path: " + e.getReason());
            }
        }

        private KeySource validateEncryption() {
            List<String> keySettings = explicit.stream().filter(k -> List.of(KEY_MANAGEMENT_SERVICE, KEY_STORE_PATH,
                    KEY_STORE_TYPE, KEY_STORE_PASSWORD, KEY_STORE_ACTIVE_ALIAS, PASSPHRASE, PREVIOUS_PASSPHRASES,
                    ENCRYPTION_ALGORITHM).contains(k)).toList();
            if (!enableEncryption) {
                if (!keySettings.isEmpty()) {
                    throw new ConfigurationException("option(s) " + keySettings + " are set but " + ENABLE_ENCRYPTION
                            + " is false; set " + ENABLE_ENCRYPTION + "=true or remove them");
                }
                return null;
            }
            String algorithm = encryptionAlgorithm == null ? "" : encryptionAlgorithm.replace("-", "").toUpperCase(Locale.ROOT);
            if (!algorithm.equals("AES256") && !algorithm.equals("AES256GCM")) {
                throw bad(ENCRYPTION_ALGORITHM, encryptionAlgorithm, "must be AES256 (AES-256-GCM), the only algorithm supported");
            }
            switch (keyManagement) {
                case NONE -> throw new ConfigurationException(ENABLE_ENCRYPTION + "=true needs a key source: set "
                        + KEY_MANAGEMENT_SERVICE + " to KeyStore (with " + KEY_STORE_PATH + " and " + KEY_STORE_PASSWORD
                        + ") or Passphrase (with " + PASSPHRASE + ")");
                case KEY_STORE -> {
                    rejectAll(List.of(PASSPHRASE, PREVIOUS_PASSPHRASES), "KeyStore");
                    if (keyStorePath == null) {
                        throw new ConfigurationException(KEY_MANAGEMENT_SERVICE + "=KeyStore needs " + KEY_STORE_PATH);
                    }
                    if (keyStorePassword == null) {
                        throw new ConfigurationException(KEY_MANAGEMENT_SERVICE + "=KeyStore needs " + KEY_STORE_PASSWORD);
                    }
                    return wrap(KEY_STORE_TYPE, () -> KeySources.keyStore(keyStorePath, keyStoreType, keyStorePassword, keyStoreActiveAlias));
                }
                case PASSPHRASE -> {
                    rejectAll(List.of(KEY_STORE_PATH, KEY_STORE_TYPE, KEY_STORE_PASSWORD, KEY_STORE_ACTIVE_ALIAS), "Passphrase");
                    if (passphrases == null || passphrases.isEmpty() || passphrases.get(0) == null) {
                        throw new ConfigurationException(KEY_MANAGEMENT_SERVICE + "=Passphrase needs " + PASSPHRASE);
                    }
                    for (char[] p : passphrases) {
                        if (p == null || p.length == 0) {
                            throw new ConfigurationException("option " + PASSPHRASE + "/" + PREVIOUS_PASSPHRASES
                                    + ": a passphrase must not be empty");
                        }
                    }
                    return KeySources.passphrase(passphrases);
                }
                case CUSTOM -> {
                    rejectAll(List.of(KEY_STORE_PATH, KEY_STORE_TYPE, KEY_STORE_PASSWORD, KEY_STORE_ACTIVE_ALIAS, PASSPHRASE,
                            PREVIOUS_PASSPHRASES), "a custom KeySource");
                    if (customKeySource == null) {
                        throw bad(KEY_MANAGEMENT_SERVICE, null, "custom key source is null");
                    }
                    return customKeySource;
                }
                default -> throw new IllegalStateException(String.valueOf(keyManagement));
            }
        }

        private void rejectAll(List<String> keys, String chosen) {
            for (String k : keys) {
                if (explicit.contains(k)) {
                    throw new ConfigurationException("option " + k + " does not apply to " + KEY_MANAGEMENT_SERVICE + "="
                            + chosen + "; remove it");
                }
            }
        }

        private static KeySource wrap(String key, java.util.function.Supplier<KeySource> make) {
            try {
                return make.get();
            } catch (ConfigurationException e) {
                throw new ConfigurationException("option " + key + ": " + e.getMessage(), e);
            }
        }

        private static void require(String key, Object value) {
            if (value == null) {
                throw bad(key, null, "must be set");
            }
        }

        private static void requireDuration(String key, Duration value, Duration min) {
            if (value == null || value.compareTo(min) < 0 || value.compareTo(MAX_DURATION) > 0) {
                throw bad(key, value, "must be a duration from " + min + " to " + MAX_DURATION);
            }
        }

        private static ConfigurationException bad(String key, Object value, String rule) {
            return new ConfigurationException("option " + key + " = " + value + " is invalid: " + rule);
        }

    }
}
