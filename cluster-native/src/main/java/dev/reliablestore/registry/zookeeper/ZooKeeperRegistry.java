package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.spi.ReplayCheckpoints;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.HealthReport;
import dev.reliablestore.registry.MembershipListener;
import dev.reliablestore.registry.NodeOperationRefusedException;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryClosedException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.ensemble.fixed.FixedEnsembleProvider;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@link ClusterRegistry} on a ZooKeeper ensemble (see docs/zookeeper-backend.md).
 *
 * <p>Writes: each batch is planned by {@link BatchPlanner} on a snapshot of the znodes it depends
 * on and sent as one multi, which also touches {@code seq} (its mzxid becomes the batch's sequence)
 * and creates the batch's change-log entry. Batches of one registry whose keys overlap run one after
 * the other, in submission order; independent ones are in flight together
 * ({@link ZooKeeperCommitPipeline}). If the connection drops while a multi is in flight, its log entry doubles as a
 * commit marker: after reconnecting, the registry tries to create that entry itself as a fence — if
 * it can, the original multi can never apply and the batch is retried; if the entry exists, the
 * batch committed. Only when no server answers within the failover timeout does a commit fail with
 * {@code outcomeUnknown}.
 */
final class ZooKeeperRegistry implements ClusterRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperRegistry.class);
    private static final byte[] EMPTY = new byte[0];
    /** Bytes of a request kept free for op headers, paths, the sequence touch and the log entry's framing. */
    static final int REQUEST_RESERVE = 16 * 1024;
    /**
     * Values per multi read. A znode holds at most the servers' jute.maxbuffer (maxRequestBytes), so
     * two values, with seq twice and the answer's framing, fit the client's answer limit (set to twice
     * that plus the reserve) whatever was written into them — also by something else than the registry.
     */
    static final int VALUES_PER_MULTI_READ = 2;
    static final int MAX_BATCH_COMMANDS = 10_000;
    /** A value travels twice in its multi (its znode and the change-log entry), each time with a path of at most this. */
    static final int PER_VALUE_OVERHEAD = 2 * (RegistryPath.MAX_PATH_LENGTH + RegistryPath.MAX_SEGMENT_LENGTH) + WriteBatch.COMMAND_OVERHEAD;
    /** The smallest maxRequestBytes whose value limit is the contract's 1 MiB. */
    static final int MAX_REQUEST_BYTES_FOR_FULL_VALUES = 2 * (RegistryValue.MAX_SIZE + PER_VALUE_OVERHEAD) + REQUEST_RESERVE;
    private static final long BUCKET_MILLIS = FeedHistory.BUCKET_MILLIS;
    private static final int MAX_KNOWN_FACTS = 100_000;

    private final ZooKeeperOptions options;
    private final ZnodeLayout layout;
    private final CuratorFramework client;
    private final AclPolicy policy;
    private final List<ACL> acl;
    private final BatchPlanner planner;
    private final RegistryLimits limits;
    private final ChangeFeed feed;
    /** The change log as a replayable history (garbage collection, horizon, replaying watches' readers). */
    private final FeedHistory history;
    /** One thread per replaying watch while it reads its history. */
    private final ExecutorService replays;
    private final Membership membership;
    private final FixedEnsembleProvider ensemble;
    private final OversizedRequests oversized;
    private final ExecutorService completions;
    private final ScheduledExecutorService maintenance;
    private final ScheduledExecutorService sweeper;
    private final AnswerDeadlines deadlines;
    private final String instanceId = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    private final AtomicLong entryCounter = new AtomicLong();
    private final AtomicLong lastSequence = new AtomicLong();
    private final AtomicLong snapshotReads = new AtomicLong();
    /** What we know of znodes: batches whose facts are all known skip the snapshot read (a wrong guess only costs a retry). */
    private final ConditionCache facts;
    /** Orders overlapping batches; independent ones are in flight together. */
    private final ZooKeeperCommitPipeline pipeline;
    private final Object connectionLock = new Object();
    private CompletableFuture<Void> connected = new CompletableFuture<>();
    private volatile ConnectionState connectionState = ConnectionState.LOST;
    private volatile String ensuredBucket = "";
    private volatile boolean closed;

    private ZooKeeperRegistry(ZooKeeperOptions options) {
        this.options = options;
        this.layout = new ZnodeLayout(options.chroot());
        this.policy = AclPolicy.of(options);
        this.acl = policy.znodeAcl();
        this.planner = new BatchPlanner(layout, acl);
        this.oversized = new OversizedRequests(options.maxRequestBytes());
        this.facts = new ConditionCache(layout.data, MAX_KNOWN_FACTS);
        // coalesce only up to what a server with the default jute.maxbuffer takes: a multi made large by its
        // neighbours must never be what a server drops (OversizedRequests judges one batch's own size)
        this.deadlines = new AnswerDeadlines(options.failoverTimeoutMs());
        this.pipeline = new ZooKeeperCommitPipeline(layout.seq, Math.min(options.maxRequestBytes(), ZooKeeperOptions.ZOOKEEPER_DEFAULT_MAX_BUFFER),
                deadlines);
        long usable = (long) options.maxRequestBytes() - REQUEST_RESERVE;
        // a value travels twice in its multi: in its znode and in the change-log entry
        // and one value at the longest path must fit in one batch
        this.limits = new RegistryLimits((int) Math.min(RegistryValue.MAX_SIZE, usable / 2 - PER_VALUE_OVERHEAD), usable / 2, MAX_BATCH_COMMANDS);
        this.completions = Executors.newCachedThreadPool(daemon("zookeeper-registry-completion"));
        this.maintenance = Executors.newSingleThreadScheduledExecutor(daemon("zookeeper-registry-maintenance"));
        // its own thread: the maintenance thread makes blocking calls (log garbage collection) that must not delay it
        this.sweeper = Executors.newSingleThreadScheduledExecutor(daemon("zookeeper-registry-deadlines"));
        this.ensemble = new FixedEnsembleProvider(options.connectString(), true);
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .ensembleProvider(ensemble) // the servers of the URI; drained servers are taken out of it (avoidServers)
                // honour the servers the URI names: Curator's ensemble tracker would otherwise replace
                // them with every client address in the ensemble's config
                .ensembleTracker(false)
                .sessionTimeoutMs(options.sessionTimeoutMs())
                .connectionTimeoutMs(options.connectionTimeoutMs())
                .retryPolicy(new BoundedExponentialBackoffRetry(50, 1000, 5))
                .zkClientConfig(clientConfig(options))
                .aclProvider(new ACLProvider() {
                    @Override
                    public List<ACL> getDefaultAcl() {
                        return acl;
                    }

                    @Override
                    public List<ACL> getAclForPath(String path) {
                        return acl;
                    }
                });
        if (options.digestCredentials() != null) {
            builder.authorization("digest", options.digestCredentials().getBytes(StandardCharsets.UTF_8));
        }
        this.client = builder.build();
        this.feed = new ChangeFeed(layout, this::zk, options.feedCapacity());
        feed.retryRegistrationWith((task, delayMillis) -> {
            if (!closed) {
                try {
                    maintenance.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    // closed meanwhile: nothing listens any more
                }
            }
        });
        pipeline.onEntries(feed::ownEntrySent, feed::ownEntryNotCreated);
        long retentionMs = options.feedRetentionMs();
        this.history = new FeedHistory(layout, this::zk, acl, options.failoverTimeoutMs(), "the change log is kept for feedRetention="
                + (retentionMs % 1000 == 0 ? retentionMs / 1000 + " s" : retentionMs + " ms"));
        this.replays = Executors.newCachedThreadPool(daemon("zookeeper-feed-replay"));
        this.membership = new Membership(client, layout, options.nodeName(), options.nodeAffinity(), options.primaryCandidate(), this::takeoverCheck,
                new Membership.Servers(configuredServers(), this::avoidServers), acl, options.sessionTimeoutMs());
    }

    static ZooKeeperRegistry open(ZooKeeperOptions options) {
        ZooKeeperRegistry r = new ZooKeeperRegistry(options);
        try {
            r.start();
            return r;
        } catch (RuntimeException | Error e) {
            r.close();
            throw e;
        }
    }

    private void start() {
        sweeper.scheduleWithFixedDelay(deadlines::sweep, deadlines.sweepPeriodMs(), deadlines.sweepPeriodMs(), TimeUnit.MILLISECONDS);
        client.getConnectionStateListenable().addListener((c, state) -> onConnectionState(state));
        if (options.kerberosPrincipal() != null) {
            KerberosJaas.checkLogin(KerberosJaas.section(options.kerberosPrincipal(), options.kerberosKeytab()), options.kerberosPrincipal(),
                    options.kerberosKeytab());
        }
        client.start();
        try {
            if (!client.blockUntilConnected(options.connectionTimeoutMs(), TimeUnit.MILLISECONDS)) {
                String tls = options.tls() ? ZooKeeperTlsProbe.diagnose(options, clientConfig(options)) : null;
                throw new RegistryUnavailableException("could not connect to ZooKeeper at " + options.connectString() + " within "
                        + options.connectionTimeoutMs() + " ms (option connectionTimeout)" + (tls == null ? "" : "; " + tls), null);
            }
            createLayout();
            if (policy.enforced()) {
                AclGuard guard = new AclGuard(layout, policy, options);
                call("verifying the ACLs of " + layout.chroot, guard::check);
            }
            feed.install();
            membership.start(Math.max(options.connectionTimeoutMs(), 5_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnavailableException("interrupted while opening " + uri(), e);
        }
        maintenance.scheduleWithFixedDelay(this::collectLogGarbage, BUCKET_MILLIS, BUCKET_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The largest answer the registry's client accepts, at least (a listing of some 250,000 children of 256 characters). */
    static final long MIN_ANSWER_BYTES = 64L * 1024 * 1024;

    static ZKClientConfig clientConfig(ZooKeeperOptions options) {
        ZKClientConfig config = new ZKClientConfig();
        // answers may be two values (a multi read), and a listing is not bounded by any request: a key with many
        // subkeys, or a change-log bucket of a busy 10 s (80,000 entries make 2 MiB), would drop the connection
        // ("Packet len ... is out of range") on every try, and a bucket that cannot be listed is never collected.
        // The limit only refuses larger answers; it allocates nothing
        config.setProperty("jute.maxbuffer", String.valueOf(Math.max(MIN_ANSWER_BYTES,
                2L * (Math.max(ZooKeeperOptions.ZOOKEEPER_DEFAULT_MAX_BUFFER, options.maxRequestBytes()) + REQUEST_RESERVE))));
        config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, String.valueOf(options.kerberosPrincipal() != null));
        if (options.kerberosPrincipal() != null) {
            // the section is named per client: the JVM-wide JAAS "Client" section (of another ZooKeeper user) stays theirs
            config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, KerberosJaas.section(options.kerberosPrincipal(), options.kerberosKeytab()));
            config.setProperty(ZKClientConfig.ZK_SASL_CLIENT_USERNAME, ZKClientConfig.ZK_SASL_CLIENT_USERNAME_DEFAULT);
            // the server principal is zookeeper/<host of the connect string>, not a name DNS canonicalisation chooses
            // (the JDK still reverse-resolves an IP literal: docs say to use host names)
            config.setProperty(ZKClientConfig.ZK_SASL_CLIENT_CANONICALIZE_HOSTNAME, "false");
        }
        // ZKClientConfig starts from the JVM's zookeeper.* system properties (a server in the same JVM sets its own
        // stores there): every TLS setting is given here, so the registry connects exactly as its options say
        config.setProperty(ZKClientConfig.SECURE_CLIENT, String.valueOf(options.tls()));
        if (options.tls()) {
            config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
            try (ClientX509Util x509 = new ClientX509Util()) {
                store(config, options.tlsKeyStore(), options.tlsKeyStorePassword(), x509.getSslKeystoreLocationProperty(),
                        x509.getSslKeystorePasswdProperty(), x509.getSslKeystorePasswdPathProperty(), x509.getSslKeystoreTypeProperty());
                store(config, options.tlsTrustStore(), options.tlsTrustStorePassword(), x509.getSslTruststoreLocationProperty(),
                        x509.getSslTruststorePasswdProperty(), x509.getSslTruststorePasswdPathProperty(), x509.getSslTruststoreTypeProperty());
                config.setProperty(x509.getSslHostnameVerificationEnabledProperty(), "true");
                // the name in the connect string must be in the certificate: a reverse lookup would let DNS vouch for it
                config.setProperty(x509.getSslAllowReverseDnsLookupProperty(), "false");
            }
        }
        return config;
    }

    private static void store(ZKClientConfig config, String location, String password, String locationKey, String passwordKey,
            String passwordPathKey, String typeKey) {
        config.setProperty(locationKey, location == null ? "" : location);
        config.setProperty(passwordKey, password == null ? "" : password);
        config.setProperty(passwordPathKey, "");
        if (location != null) {
            config.setProperty(typeKey, ZooKeeperOptions.storeType(location));
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicLong n = new AtomicLong();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private void createLayout() throws InterruptedException {
        // above the chroot: readable names only, so other tenants can share the parents;
        // the chroot and below: exactly the policy's ACL (checked by AclGuard once created)
        List<ACL> parentAcl = policy.parentAcl();
        String[] parts = layout.chroot.substring(1).split("/");
        StringBuilder path = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            path.append('/').append(parts[i]);
            createIfMissing(path.toString(), i == parts.length - 1 ? acl : parentAcl);
        }
        List<String> fixed = AclGuard.fixedZnodes(layout);
        for (String p : fixed.subList(1, fixed.size())) { // the chroot itself is done
            createIfMissing(p, acl);
        }
    }

    private void createIfMissing(String path, List<ACL> nodeAcl) throws InterruptedException {
        try {
            client.create().withMode(CreateMode.PERSISTENT).withACL(nodeAcl).forPath(path, EMPTY);
        } catch (KeeperException.NodeExistsException exists) {
            // verify we may use it: a registry without the credentials must fail here, clearly
            try {
                client.checkExists().forPath(path);
            } catch (KeeperException.NoAuthException e) {
                throw notAuthorized(path, e);
            } catch (Exception e) {
                throw failure("could not check " + path, e);
            }
        } catch (KeeperException.NoAuthException e) {
            throw notAuthorized(path, e);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw failure("could not create " + path, e);
        }
    }

    private RegistryException notAuthorized(String path, Throwable cause) {
        return new RegistryException("not authorized to use " + path + " in " + uri() + ": the chroot is protected by an ACL" + switch (policy.scheme()) {
            case ZooKeeperOptions.ACL_DIGEST -> " that does not accept the configured \"digest\" credentials";
            case ZooKeeperOptions.ACL_X509 -> " that does not accept the client certificate of option tlsKeyStore (subject " + policy.identity() + ")";
            case ZooKeeperOptions.ACL_SASL -> " that does not accept the Kerberos principal of option kerberosPrincipal (" + policy.identity() + ")";
            default -> " and no \"digest\" option was given (acl=open)";
        } + (policy.scheme().equals(ZooKeeperOptions.ACL_SASL) || policy.scheme().equals(ZooKeeperOptions.ACL_X509)
                ? ". A chroot protected by digest credentials moves to this identity with: reliablestore zk secure --store " + uri()
                + " (with these options and an explicit acl=" + policy.scheme() + ") --registry-secret-env digest=VAR (VAR holding its current"
                + " user:password); see"
                + " docs/zookeeper-backend.md, Security" : ""), cause);
    }

    private RegistryException failure(String what, Throwable t) {
        Throwable cause = ZkCalls.unwrap(t);
        if (cause instanceof RegistryException re) {
            return re;
        }
        if (cause instanceof KeeperException.SessionClosedRequireAuthException) {
            return new ZooKeeperAuthenticationException(what + ": the ZooKeeper servers at " + options.connectString() + " require SASL authentication and closed"
                    + " the session" + (options.kerberosPrincipal() == null ? "; set kerberosPrincipal and kerberosKeytab"
                    : " although option kerberosPrincipal=" + options.kerberosPrincipal() + " is set: did the SASL handshake fail (server"
                    + " principal zookeeper/<host of the connect string>@<realm>)?"), options.kerberosPrincipal(), cause);
        }
        if (cause instanceof KeeperException.NoAuthException) {
            return notAuthorized(((KeeperException) cause).getPath() == null ? layout.chroot : ((KeeperException) cause).getPath(), cause);
        }
        if (ZkCalls.isConnectionProblem(cause) || cause instanceof TimeoutException) {
            return new RegistryUnavailableException(what + ": ZooKeeper is unreachable (" + cause + ")", cause);
        }
        return new RegistryException(what + ": " + cause, cause);
    }

    // ---- connection --------------------------------------------------------------------------------

    private void onConnectionState(ConnectionState state) {
        connectionState = state;
        LOG.debug("{}: connection {}", options.nodeName(), state);
        switch (state) {
            case CONNECTED, RECONNECTED, READ_ONLY -> {
                synchronized (connectionLock) {
                    connected.complete(null);
                }
                if (state == ConnectionState.RECONNECTED && !closed) {
                    try {
                        feed.install();
                    } catch (RuntimeException e) {
                        LOG.warn("could not re-register the change-log watch", e);
                    }
                }
            }
            case SUSPENDED, LOST -> {
                synchronized (connectionLock) {
                    // once closed, the failed future stays: a fresh one would hold a caller that
                    // passed the closed check until its deadline instead of failing it at once
                    if (connected.isDone() && !closed) {
                        connected = new CompletableFuture<>();
                    }
                }
                feed.disconnected(state == ConnectionState.LOST
                        ? "the ZooKeeper session was lost (expired); changes made meanwhile were not delivered"
                        : "the connection to ZooKeeper was interrupted; changes made meanwhile were not delivered", state == ConnectionState.LOST);
            }
        }
    }

    private ZooKeeper zk() {
        try {
            return client.getZookeeperClient().getZooKeeper();
        } catch (Exception e) {
            throw new RegistryUnavailableException("no ZooKeeper handle: " + e.getMessage(), e);
        }
    }

    /** Completes with the handle once connected, or fails when the deadline passes or the registry closes. */
    private CompletableFuture<ZooKeeper> awaitConnected(long deadlineNanos) {
        CompletableFuture<Void> current;
        synchronized (connectionLock) {
            if (closed) {
                return CompletableFuture.failedFuture(new RegistryClosedException(describe()));
            }
            current = connected;
        }
        if (current.isDone() && !current.isCompletedExceptionally()) {
            try {
                return CompletableFuture.completedFuture(zk());
            } catch (RegistryException closing) {
                // closed since the check above: a failed future, which callers settling a lost answer map to "unknown";
                // thrown, it escaped their handlers as "not applied"
                return CompletableFuture.failedFuture(closed ? new RegistryClosedException(describe()) : closing);
            }
        }
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            return CompletableFuture.failedFuture(new TimeoutException("no ZooKeeper connection"));
        }
        return current.copy().orTimeout(left, TimeUnit.NANOSECONDS).thenApply(v -> zk());
    }

    private long deadline() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.failoverTimeoutMs());
    }

    /**
     * A read: with {@code readConsistency=linearizable}, behind a quorum barrier sent ahead of it on
     * the same session — a {@code multi} of one {@code check} that the leader commits through a
     * majority like any write. A session's requests are processed in order, so the read sees every
     * batch committed before the barrier, which commits after every batch acknowledged before the
     * read began. {@code sync()} would be cheaper but is answered by the leader alone, which may not
     * know it has lost its quorum (ZOOKEEPER-1675).
     */
    private <T> T read(String what, Function<ZooKeeper, CompletableFuture<T>> op) {
        if (!options.linearizableReads()) {
            return call(what, op);
        }
        return call(what, zk -> {
            CompletableFuture<List<OpResult>> barrier = ZkCalls.multi(zk, List.of(Op.check(layout.seq, -1)));
            return barrier.thenCombine(op.apply(zk), (b, answer) -> answer);
        });
    }

    /** Runs an idempotent call, retrying it after connection problems until the failover timeout. */
    private <T> T call(String what, Function<ZooKeeper, CompletableFuture<T>> op) {
        ensureOpen();
        long deadline = deadline();
        Throwable last = null;
        while (true) {
            if (closed) {
                throw new RegistryClosedException(describe());
            }
            try {
                // bounded: the client has no timeout per request (see AnswerDeadlines), and a timed get
                // costs nothing when the answer comes
                long left = deadline - System.nanoTime();
                return awaitConnected(deadline).thenCompose(op).get(Math.max(left, 1), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryUnavailableException(what + " was interrupted", e);
            } catch (Exception e) {
                Throwable cause = ZkCalls.unwrap(e);
                if (cause instanceof RegistryException re) {
                    throw re;
                }
                if (cause instanceof TimeoutException || System.nanoTime() >= deadline) {
                    throw new RegistryUnavailableException(what + ": no answer from ZooKeeper at " + options.connectString() + " within the failover timeout of "
                            + options.failoverTimeoutMs() + " ms" + (last == null ? "" : " (last error: " + last + ")"), last == null ? cause : last);
                }
                if (!ZkCalls.isConnectionProblem(cause)) {
                    throw failure(what, cause);
                }
                last = cause;
                // awaitConnected waits for the reconnect; until Curator notices the loss, back off a little
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new RegistryClosedException(describe());
        }
    }

    private String describe() {
        return "ZooKeeper registry " + uri();
    }

    // ---- reads -------------------------------------------------------------------------------------

    @Override
    public String uri() {
        return options.redactedUri();
    }

    @Override
    public RegistryLimits limits() {
        return limits;
    }

    @Override
    public Optional<VersionedValue> getValue(RegistryPath key, String name) {
        RegistryPath.checkName(name, "value name");
        String path = layout.valuePath(key, name);
        // learned on the event thread, in answer order: a late, older fact must not overwrite a newer one
        ZkCalls.NodeData d = read("reading " + key + ":" + name, zk -> ZkCalls.getData(zk, path,
                n -> facts.learn(zk, path, n == null ? null : n.stat(), n == null ? -1 : ZnodeLayout.revision(path, n.stat(), n.data()))));
        if (d == null) {
            return Optional.empty();
        }
        return Optional.of(new VersionedValue(ZnodeLayout.decodeValue(path, d.data()), ZnodeLayout.revision(path, d.stat(), d.data())));
    }

    @Override
    public boolean keyExists(RegistryPath key) {
        if (key.isRoot()) {
            ensureOpen();
            return true;
        }
        String path = layout.keyPath(key);
        return read("checking key " + key, zk -> ZkCalls.exists(zk, path)) != null;
    }

    @Override
    public List<String> subkeys(RegistryPath key) {
        ReadBatchResult r = read(ReadBatch.of(new ReadBatch.SubkeysRead(key)));
        return r.subkeys(0).orElseThrow(() -> new NoSuchKeyException(key));
    }

    @Override
    public Map<String, VersionedValue> values(RegistryPath key) {
        ReadBatchResult r = read(ReadBatch.of(new ReadBatch.ValuesRead(key)));
        return r.values(0).orElseThrow(() -> new NoSuchKeyException(key));
    }

    /**
     * Reads are pipelined between two reads of {@code seq}; every batch that changes something
     * sets {@code seq} in its multi. Equal mzxids before and after prove no batch committed in
     * between, and the answers are the state as of that sequence. Otherwise the answers are still
     * the state as of the first sequence when nothing read changed since; failing that, the reads
     * are repeated with the change log captured while they run, and the answers rolled forward to
     * the second sequence with the batches committed in between: under writers that never pause,
     * repeating until a quiet gap would never end.
     */
    @Override
    public ReadBatchResult read(ReadBatch batch) {
        return read("reading a batch of " + batch.reads().size(), zk -> readOnce(zk, batch, 0));
    }

    private CompletableFuture<ReadBatchResult> readOnce(ZooKeeper zk, ReadBatch batch, int attempt) {
        // the first attempt costs nothing extra; later ones record the log from before the first seq read
        ChangeFeed.Capture capture = null;
        CompletableFuture<ReadBatchResult> result;
        try {
            capture = attempt == 0 ? null : feed.capture();
            result = readOnce(zk, batch, attempt, capture);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        if (capture != null) {
            ChangeFeed.Capture taken = capture;
            result.whenComplete((r, t) -> taken.close());
        }
        return result;
    }

    private CompletableFuture<ReadBatchResult> readOnce(ZooKeeper zk, ReadBatch batch, int attempt, ChangeFeed.Capture capture) {
        if (capture == null && batch.reads().stream().allMatch(r -> r instanceof ReadBatch.ValueRead)) {
            return readValues(zk, batch, attempt);
        }
        CompletableFuture<ZkCalls.NodeData> before = ZkCalls.getData(zk, layout.seq);
        List<CompletableFuture<?>> first = new ArrayList<>();
        boolean needsValues = false;
        for (ReadBatch.Read r : batch.reads()) {
            if (r instanceof ReadBatch.ValueRead v) {
                String vp = layout.valuePath(v.key(), v.name());
                // a write conditioned on what was just read is then planned without a snapshot read
                first.add(ZkCalls.getData(zk, vp, n -> facts.learn(zk, vp, n == null ? null : n.stat(),
                        n == null ? -1 : ZnodeLayout.revision(vp, n.stat(), n.data()))));
            } else {
                first.add(ZkCalls.getChildren(zk, layout.keyPath(r.key())));
                needsValues |= r instanceof ReadBatch.ValuesRead;
            }
        }
        CompletableFuture<ZkCalls.NodeData> afterFirst = needsValues ? null : ZkCalls.getData(zk, layout.seq);
        List<CompletableFuture<?>> firstRound = new ArrayList<>(first);
        firstRound.add(before);
        return CompletableFuture.allOf(firstRound.toArray(CompletableFuture[]::new)).thenCompose(ignored -> {
            Runnable race = betweenReadRounds;
            if (race != null) {
                race.run();
            }
            // second round: the values of every ValuesRead, then seq again
            Map<Integer, List<CompletableFuture<ZkCalls.NodeData>>> valueReads = new HashMap<>();
            Map<Integer, List<String>> valueNames = new HashMap<>();
            for (int i = 0; i < batch.reads().size(); i++) {
                if (batch.reads().get(i) instanceof ReadBatch.ValuesRead vr) {
                    ZkCalls.Children ch = (ZkCalls.Children) first.get(i).join();
                    if (ch == null) {
                        continue;
                    }
                    List<CompletableFuture<ZkCalls.NodeData>> reads = new ArrayList<>();
                    List<String> names = new ArrayList<>();
                    String keyPath = layout.keyPath(vr.key());
                    for (String child : ch.names()) {
                        if (ZnodeLayout.isValueChild(child)) {
                            names.add(child);
                            reads.add(ZkCalls.getData(zk, keyPath + "/" + child));
                        }
                    }
                    valueReads.put(i, reads);
                    valueNames.put(i, names);
                }
            }
            CompletableFuture<ZkCalls.NodeData> after = afterFirst != null ? afterFirst : ZkCalls.getData(zk, layout.seq);
            List<CompletableFuture<?>> all = new ArrayList<>();
            valueReads.values().forEach(all::addAll);
            all.add(after);
            return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenCompose(ignored2 -> {
                ZkCalls.NodeData seqBefore = before.join();
                ZkCalls.NodeData seqAfter = after.join();
                if (seqBefore == null || seqAfter == null) {
                    return CompletableFuture.failedFuture(new RegistryException(layout.seq + " is missing: the registry's znodes under "
                            + layout.chroot + " were removed"));
                }
                List<Optional<?>> answers = answers(batch, first, valueReads, valueNames);
                long zxidBefore = seqBefore.stat().getMzxid();
                if (zxidBefore == seqAfter.stat().getMzxid()) {
                    return CompletableFuture.completedFuture(snapshot(seqAfter, answers));
                }
                // batches committed meanwhile; the answers are still the state as of the first read of
                // seq if nothing read was created, changed or (for a listing) gained or lost a child since
                if (unchangedSince(zxidBefore, batch, first, valueReads)) {
                    return CompletableFuture.completedFuture(snapshot(seqBefore, answers));
                }
                if (capture == null) {
                    return readOnce(zk, batch, attempt + 1);
                }
                // every log entry up to seqAfter was announced before seqAfter's answer, and its read was
                // sent before this one: once this answers, the capture holds all of them it ever will
                return ZkCalls.getData(zk, layout.seq).thenCompose(barrier -> {
                    long from = ZnodeLayout.seqSequence(seqBefore.stat(), seqBefore.data());
                    long to = ZnodeLayout.seqSequence(seqAfter.stat(), seqAfter.data());
                    java.util.SortedMap<Long, List<Change>> between = capture.between(from, to, zxidBefore, seqAfter.stat().getMzxid(),
                            seqAfter.stat().getVersion() - seqBefore.stat().getVersion());
                    if (between != null) {
                        for (List<Change> changes : between.values()) {
                            rollForward(batch, answers, changes);
                        }
                        readsRolledForward.incrementAndGet();
                        return CompletableFuture.completedFuture(snapshot(seqAfter, answers));
                    }
                    if (attempt >= 100) {
                        return CompletableFuture.failedFuture(new RegistryUnavailableException("could not read a consistent snapshot: the change log"
                                + " read during the batch was incomplete 100 times (entries garbage-collected or the connection dropped)", null));
                    }
                    return readOnce(zk, batch, attempt + 1);
                });
            });
        });
    }

    /**
     * A batch of values only (an entity read, a version read): multi reads of {@value #VALUES_PER_MULTI_READ}
     * values each, pipelined, the first led by a read of seq and the last followed by one — an entity
     * read (envelope and version record) is one request, where a {@code getData} per znode cost the
     * server and the client three. The server answers a multi read in one pass, but the answer does
     * not rest on that: equal seq mzxids at both ends prove no batch committed in between (every
     * changing multi sets seq; one session's requests are answered in order), and otherwise the
     * values are still the state as of the first when each exists unchanged since. Failing both, the
     * general path reads again with the change log captured.
     */
    private CompletableFuture<ReadBatchResult> readValues(ZooKeeper zk, ReadBatch batch, int attempt) {
        int n = batch.reads().size();
        List<String> valuePaths = new ArrayList<>(n);
        for (ReadBatch.Read r : batch.reads()) {
            valuePaths.add(layout.valuePath(r.key(), ((ReadBatch.ValueRead) r).name()));
        }
        List<CompletableFuture<List<ZkCalls.NodeData>>> multis = new ArrayList<>();
        for (int from = 0; from < n || from == 0; from += VALUES_PER_MULTI_READ) {
            List<String> paths = new ArrayList<>(VALUES_PER_MULTI_READ + 2);
            boolean first = from == 0;
            boolean last = from + VALUES_PER_MULTI_READ >= n;
            if (first) {
                paths.add(layout.seq);
            }
            List<String> values = valuePaths.subList(from, Math.min(n, from + VALUES_PER_MULTI_READ));
            paths.addAll(values);
            if (last) {
                paths.add(layout.seq);
            }
            int offset = first ? 1 : 0;
            // a write conditioned on what was just read is then planned without a snapshot read
            multis.add(ZkCalls.getDataAll(zk, paths, answers -> {
                for (int i = 0; i < values.size(); i++) {
                    String vp = values.get(i);
                    ZkCalls.NodeData d = answers.get(offset + i);
                    facts.learn(zk, vp, d == null ? null : d.stat(), d == null ? -1 : ZnodeLayout.revision(vp, d.stat(), d.data()));
                }
            }));
        }
        return CompletableFuture.allOf(multis.toArray(CompletableFuture[]::new)).thenCompose(ignored -> {
            List<ZkCalls.NodeData> answers = new ArrayList<>(n + 2);
            multis.forEach(m -> answers.addAll(m.join()));
            ZkCalls.NodeData before = answers.get(0);
            ZkCalls.NodeData after = answers.get(answers.size() - 1);
            if (before == null || after == null) {
                return CompletableFuture.failedFuture(new RegistryException(layout.seq + " is missing: the registry's znodes under "
                        + layout.chroot + " were removed"));
            }
            List<CompletableFuture<?>> values = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
                values.add(CompletableFuture.completedFuture(answers.get(i)));
            }
            if (before.stat().getMzxid() == after.stat().getMzxid()) {
                return CompletableFuture.completedFuture(snapshot(after, answers(batch, values, Map.of(), Map.of())));
            }
            if (unchangedSince(before.stat().getMzxid(), batch, values, Map.of())) {
                return CompletableFuture.completedFuture(snapshot(before, answers(batch, values, Map.of(), Map.of())));
            }
            return readOnce(zk, batch, attempt + 1);
        });
    }

    /** Read batches answered by rolling forward with the change log (tests check the path is taken). */
    final AtomicLong readsRolledForward = new AtomicLong();
    /**
     * Run between the two rounds of a general read batch, for tests that must race a read with a
     * commit every time: writers running beside the reads race it only now and then.
     */
    volatile Runnable betweenReadRounds;

    private ReadBatchResult snapshot(ZkCalls.NodeData seq, List<Optional<?>> answers) {
        long sequence = ZnodeLayout.seqSequence(seq.stat(), seq.data());
        lastSequence.accumulateAndGet(sequence, Math::max);
        List<Optional<?>> frozen = new ArrayList<>(answers.size());
        for (Optional<?> a : answers) {
            Object v = a.orElse(null);
            if (v instanceof SortedMap<?, ?> m) {
                frozen.add(Optional.of(Collections.unmodifiableSortedMap(m)));
            } else if (v instanceof List<?> l) {
                frozen.add(Optional.of(Collections.unmodifiableList(new ArrayList<>(new TreeSet<>(l)))));
            } else {
                frozen.add(a);
            }
        }
        return new ReadBatchResult(sequence, frozen);
    }

    /** The answers as read, with mutable collections (for {@link #rollForward}); frozen by {@link #snapshot}. */
    private List<Optional<?>> answers(ReadBatch batch, List<CompletableFuture<?>> first,
                                             Map<Integer, List<CompletableFuture<ZkCalls.NodeData>>> valueReads, Map<Integer, List<String>> valueNames) {
        List<Optional<?>> answers = new ArrayList<>();
        for (int i = 0; i < batch.reads().size(); i++) {
            ReadBatch.Read r = batch.reads().get(i);
            Object got = first.get(i).join();
            if (got == null) {
                answers.add(Optional.empty());
            } else if (r instanceof ReadBatch.ValueRead v) {
                ZkCalls.NodeData d = (ZkCalls.NodeData) got;
                String vp = layout.valuePath(v.key(), v.name());
                answers.add(Optional.of(new VersionedValue(ZnodeLayout.decodeValue(vp, d.data()), ZnodeLayout.revision(vp, d.stat(), d.data()))));
            } else if (r instanceof ReadBatch.SubkeysRead) {
                List<String> names = new ArrayList<>();
                for (String child : ((ZkCalls.Children) got).names()) {
                    if (!ZnodeLayout.isValueChild(child)) {
                        names.add(ZnodeLayout.unescape(child));
                    }
                }
                answers.add(Optional.of(names));
            } else {
                TreeMap<String, VersionedValue> values = new TreeMap<>();
                List<String> names = valueNames.get(i);
                List<CompletableFuture<ZkCalls.NodeData>> reads = valueReads.get(i);
                for (int j = 0; j < names.size(); j++) {
                    ZkCalls.NodeData d = reads.get(j).join();
                    if (d != null) { // deleted between the listing and the read: seq differs, and the log says so
                        String vp = layout.keyPath(r.key()) + "/" + names.get(j);
                        values.put(ZnodeLayout.unescape(names.get(j).substring(ZnodeLayout.VALUE_PREFIX.length())),
                                new VersionedValue(ZnodeLayout.decodeValue(vp, d.data()), ZnodeLayout.revision(vp, d.stat(), d.data())));
                    }
                }
                answers.add(Optional.of(values));
            }
        }
        return answers;
    }

    /**
     * Applies one committed batch to answers read while it committed. Every read happened after the
     * first seq read and before the second, so an answer no batch in between touched is the state
     * as of the second, and one that some batch touched is what the last such batch left.
     */
    @SuppressWarnings("unchecked")
    private static void rollForward(ReadBatch batch, List<Optional<?>> answers, List<Change> changes) {
        for (Change c : changes) {
            for (int i = 0; i < batch.reads().size(); i++) {
                ReadBatch.Read r = batch.reads().get(i);
                Optional<?> a = answers.get(i);
                RegistryPath key = r.key();
                if (c instanceof Change.KeyCreated k) {
                    if (k.key().equals(key) && a.isEmpty() && !(r instanceof ReadBatch.ValueRead)) {
                        answers.set(i, Optional.of(r instanceof ReadBatch.ValuesRead ? new TreeMap<String, VersionedValue>() : new ArrayList<String>()));
                    } else if (r instanceof ReadBatch.SubkeysRead && a.isPresent() && !k.key().isRoot() && k.key().parent().equals(key)
                            && !((List<String>) a.get()).contains(k.key().name())) {
                        ((List<String>) a.get()).add(k.key().name());
                    }
                } else if (c instanceof Change.KeyDeleted k) {
                    if (k.key().contains(key)) {
                        answers.set(i, Optional.empty());
                    } else if (r instanceof ReadBatch.SubkeysRead && a.isPresent() && k.key().parent().equals(key)) {
                        ((List<String>) a.get()).remove(k.key().name());
                    }
                } else if (c instanceof Change.ValueSet v && v.key().equals(key)) {
                    if (r instanceof ReadBatch.ValueRead vr && vr.name().equals(v.name())) {
                        answers.set(i, Optional.of(v.value()));
                    } else if (r instanceof ReadBatch.ValuesRead && a.isPresent()) {
                        ((Map<String, VersionedValue>) a.get()).put(v.name(), v.value());
                    }
                } else if (c instanceof Change.ValueDeleted v && v.key().equals(key)) {
                    if (r instanceof ReadBatch.ValueRead vr && vr.name().equals(v.name())) {
                        answers.set(i, Optional.empty());
                    } else if (r instanceof ReadBatch.ValuesRead && a.isPresent()) {
                        ((Map<String, VersionedValue>) a.get()).remove(v.name());
                    }
                }
            }
        }
    }

    /**
     * Whether every answer of a read batch is the state as of zxid {@code seq}: each value read exists
     * with {@code mzxid <= seq} (not created or changed since) and each key listed exists with
     * {@code pzxid <= seq} (no child created or deleted since). An absent answer proves nothing.
     */
    private static boolean unchangedSince(long seq, ReadBatch batch, List<CompletableFuture<?>> first,
                                          Map<Integer, List<CompletableFuture<ZkCalls.NodeData>>> valueReads) {
        for (int i = 0; i < batch.reads().size(); i++) {
            Object got = first.get(i).join();
            if (got == null) {
                return false;
            }
            if (got instanceof ZkCalls.NodeData d ? d.stat().getMzxid() > seq : ((ZkCalls.Children) got).stat().getPzxid() > seq) {
                return false;
            }
            for (CompletableFuture<ZkCalls.NodeData> v : valueReads.getOrDefault(i, List.of())) {
                ZkCalls.NodeData d = v.join();
                if (d == null || d.stat().getMzxid() > seq) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The barrier a linearizable read sends ahead of itself (see {@link #read}), alone. */
    @Override
    public void readBarrier() {
        call("a quorum barrier before reads", zk -> ZkCalls.multi(zk, List.of(Op.check(layout.seq, -1))));
    }

    @Override
    public long currentSequence() {
        ZkCalls.NodeData s = read("reading the current sequence", zk -> ZkCalls.getData(zk, layout.seq));
        if (s == null) {
            throw new RegistryException(layout.seq + " is missing: the registry's znodes under " + layout.chroot + " were removed");
        }
        return lastSequence.accumulateAndGet(ZnodeLayout.seqSequence(s.stat(), s.data()), Math::max);
    }

    // ---- writes ------------------------------------------------------------------------------------

    @Override
    public CommitResult commit(WriteBatch batch) {
        CompletableFuture<CommitResult> f = submit(batch);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnavailableException("interrupted while committing; the batch may still commit", e, true);
        } catch (Exception e) {
            Throwable cause = ZkCalls.unwrap(e);
            if (cause instanceof RegistryException re) {
                throw re;
            }
            throw new RegistryException("commit failed: " + cause, cause);
        }
    }

    @Override
    public long awaitDurable() {
        // a transaction is logged by a quorum before any server applies it, so whatever this instance
        // was shown is durable; currentSequence is at least every sequence it learned
        return currentSequence();
    }

    @Override
    public CompletableFuture<CommitResult> commitAsync(WriteBatch batch) {
        CompletableFuture<CommitResult> f = submit(batch);
        if (f.isDone()) {
            return f;
        }
        // the caller's continuations must not run on ZooKeeper's event thread
        return f.whenCompleteAsync((r, t) -> { }, this::complete);
    }

    /** A transaction is logged by a quorum before any server applies it: commitAsync is already SYNC. */
    @Override
    public CompletableFuture<CommitResult> syncCommitAsync(WriteBatch batch, Executor executor) {
        return commitAsync(batch, executor);
    }

    /** Hands the answer from ZooKeeper's event thread straight to the caller's executor, not through the completion pool first. */
    @Override
    public CompletableFuture<CommitResult> commitAsync(WriteBatch batch, Executor executor) {
        CompletableFuture<CommitResult> f = submit(batch);
        if (f.isDone()) { // answered on the caller's thread (e.g. refused at once): it may take the answer if the executor will not
            return f.whenCompleteAsync((r, t) -> { }, task -> {
                try {
                    executor.execute(task);
                } catch (RuntimeException refused) {
                    task.run();
                }
            });
        }
        return f.whenCompleteAsync((r, t) -> { }, task -> {
            Thread answering = Thread.currentThread();
            try {
                executor.execute(() -> {
                    if (Thread.currentThread() == answering) {
                        complete(task); // an executor that runs tasks inline (or the caller's, when saturated): not on ZooKeeper's thread
                    } else {
                        task.run();
                    }
                });
            } catch (RuntimeException refused) { // shut down, or failing otherwise: the answer still reaches the caller
                complete(task);
            }
        });
    }

    private void complete(Runnable task) {
        try {
            completions.execute(task);
        } catch (RejectedExecutionException closing) {
            task.run(); // closed meanwhile: complete on the calling thread
        }
    }

    private CompletableFuture<CommitResult> submit(WriteBatch batch) {
        if (closed) {
            return CompletableFuture.failedFuture(new RegistryClosedException(describe()));
        }
        validate(batch);
        return pipeline.submit(batch, () -> runBatch(batch));
    }

    private void validate(WriteBatch batch) {
        if (batch.size() > limits.maxBatchCommands()) {
            throw new RegistryLimitException("batch has " + batch.size() + " commands; this ZooKeeper registry accepts at most "
                    + limits.maxBatchCommands(), batch.size(), limits.maxBatchCommands());
        }
        for (BatchCommand c : batch.commands()) {
            if (c instanceof BatchCommand.SetValue s && s.value().size() > limits.maxValueSize()) {
                throw new RegistryLimitException("value " + s.key() + ":" + s.name() + " is " + s.value().size()
                        + " bytes; this ZooKeeper registry accepts at most " + limits.maxValueSize() + " bytes with maxRequestBytes="
                        + options.maxRequestBytes() + " (a value travels twice in its request). To raise the limit, set jute.maxbuffer on every"
                        + " ZooKeeper server and client (-Djute.maxbuffer=N) together with the option maxRequestBytes=N; values of "
                        + RegistryValue.MAX_SIZE + " bytes need N >= " + MAX_REQUEST_BYTES_FOR_FULL_VALUES + "; nothing was sent",
                        s.value().size(), limits.maxValueSize());
            }
        }
        if (batch.encodedSize() > limits.maxBatchBytes()) {
            throw new RegistryLimitException("batch is " + batch.encodedSize() + " bytes encoded; this ZooKeeper registry accepts at most "
                    + limits.maxBatchBytes() + " bytes per batch (half of maxRequestBytes " + options.maxRequestBytes() + " minus " + REQUEST_RESERVE
                    + ", since values travel in their znodes and in the change log)", batch.encodedSize(), limits.maxBatchBytes());
        }
    }

    private CompletableFuture<CommitResult> runBatch(WriteBatch batch) {
        if (closed) {
            return CompletableFuture.failedFuture(new RegistryClosedException(describe()));
        }
        if (batch.hasMutations()) {
            int live = membership.live().size();
            if (live < options.minNodes()) {
                return CompletableFuture.failedFuture(new RegistryUnavailableException("writes are refused: " + live + " node(s) live "
                        + membership.live() + ", fewer than minNodes=" + options.minNodes(), null));
            }
        }
        return attempt(batch, deadline(), 0, 0, true);
    }

    /** Run after a commit's snapshot read and before its plan is sent, for tests that must change what was read every time. */
    volatile Runnable afterSnapshotRead;

    /** Told each pause (ms) before a retry, for tests of the pause schedule (no timing needed). */
    volatile java.util.function.LongConsumer onRetryPause;

    /** Tests: runs before a lost batch's entry is fenced, with the entry's path; what it throws fails the verification. */
    volatile java.util.function.Consumer<String> beforeFence;

    /** Thrown inside the commit pipeline when the snapshot was stale: plan again. */
    private static final class Replan extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Replan(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * One try of a commit. {@code attempt} counts every try (the error says how many); {@code pauses}
     * only the retries after a connection problem, which set the pause: a batch re-planned because
     * another writer got there first is answered at once, and its first connection problem after
     * that is retried after 1 ms, not after a pause grown by the re-plans.
     */
    private CompletableFuture<CommitResult> attempt(WriteBatch batch, long deadline, int attempt, int pauses, boolean fastPathAllowed) {
        if (attempt > 0 && System.nanoTime() >= deadline) {
            return CompletableFuture.failedFuture(new RegistryUnavailableException("the batch could not be committed within the failover timeout of "
                    + options.failoverTimeoutMs() + " ms after " + attempt + " attempts (ZooKeeper unreachable or constant contention)", null));
        }
        CompletableFuture<CommitResult> outcome = awaitConnected(deadline).thenCompose(zk -> {
            BatchPlanner.Plan fast = fastPathAllowed ? fastPlan(batch) : null;
            if (fast != null) {
                return execute(zk, batch, fast, 0, deadline);
            }
            BatchPlanner.Needs needs = planner.needs(batch);
            BatchPlanner.Plan known = fastPathAllowed ? knownPlan(batch, needs) : null;
            if (known != null) {
                return execute(zk, batch, known, 0, deadline);
            }
            return answered(readSnapshot(zk, needs)).thenCompose(snapshot -> {
                Runnable race = afterSnapshotRead;
                if (race != null) {
                    race.run();
                }
                long snapshotSequence = snapshot.remove(layout.seq).stat().getMzxid();
                BatchPlanner.Plan plan = planner.plan(batch, snapshot);
                return execute(zk, batch, plan, snapshotSequence, deadline);
            });
        });
        return outcome.exceptionallyCompose(t -> {
            Throwable cause = ZkCalls.unwrap(t);
            if (cause instanceof Replan) {
                return attempt(batch, deadline, attempt + 1, pauses, false);
            }
            if (cause instanceof RegistryException) {
                return CompletableFuture.failedFuture(cause);
            }
            if (cause instanceof TimeoutException) {
                return CompletableFuture.failedFuture(new RegistryUnavailableException("no ZooKeeper connection within the failover timeout of "
                        + options.failoverTimeoutMs() + " ms; nothing of the batch was sent", cause));
            }
            if (ZkCalls.isConnectionProblem(cause)) {
                // nothing was in flight whose outcome matters (reads or a multi that changes nothing): just retry
                return retryLater(pauses, () -> attempt(batch, deadline, attempt + 1, pauses + 1, fastPathAllowed));
            }
            return CompletableFuture.failedFuture(failure("commit", cause));
        });
    }

    /** A batch of SetValues on values known to exist needs no snapshot: plain setData(-1) ops. */
    private BatchPlanner.Plan fastPlan(WriteBatch batch) {
        List<Op> ops = new ArrayList<>();
        List<BatchPlanner.Role> roles = new ArrayList<>();
        List<Change> changes = new ArrayList<>();
        for (BatchCommand c : batch.commands()) {
            if (!(c instanceof BatchCommand.SetValue s)) {
                return null;
            }
            String vp = layout.valuePath(s.key(), s.name());
            if (!facts.knownToExist(vp)) {
                return null;
            }
            ops.add(Op.setData(vp, ZnodeLayout.encodeValue(s.value()), -1));
            roles.add(BatchPlanner.Role.MUTATION);
            // one change per SetValue, a value set twice included (as the planner)
            changes.add(new Change.ValueSet(s.key(), s.name(), new VersionedValue(s.value(), 1)));
        }
        return new BatchPlanner.Plan(ops, roles, -1, List.copyOf(changes), List.of(), List.of());
    }

    /**
     * A plan on cached facts. Its guards verify every fact, so a stale one only fails the multi and
     * sends the batch to a snapshot read. A batch that changes nothing needs the snapshot's sequence
     * for its result, so it is never planned here.
     */
    private BatchPlanner.Plan knownPlan(WriteBatch batch, BatchPlanner.Needs needs) {
        Map<String, BatchPlanner.SnapNode> known = facts.snapshot(needs);
        if (known == null) {
            return null;
        }
        BatchPlanner.Plan plan = planner.plan(batch, known);
        return plan.changesSomething() || plan.failedCondition() >= 0 ? plan : null;
    }

    private CompletableFuture<Map<String, BatchPlanner.SnapNode>> readSnapshot(ZooKeeper zk, BatchPlanner.Needs needs) {
        snapshotReads.incrementAndGet();
        Map<String, BatchPlanner.SnapNode> snapshot = new java.util.concurrent.ConcurrentHashMap<>();
        List<CompletableFuture<?>> reads = new ArrayList<>();
        reads.add(ZkCalls.getData(zk, layout.seq).thenAccept(s -> {
            if (s == null) {
                throw new RegistryException(layout.seq + " is missing: the registry's znodes under " + layout.chroot + " were removed");
            }
            // the planner and the caller read a node's mzxid as its sequence (a value's: its revision)
            snapshot.put(layout.seq, new BatchPlanner.SnapNode(ConditionCache.withMzxid(s.stat(), ZnodeLayout.seqSequence(s.stat(), s.data())), null, null));
        }));
        for (String p : needs.statPaths()) {
            if (needs.dataPaths().contains(p) || needs.revisionPaths().contains(p)) {
                reads.add(ZkCalls.getData(zk, p, d -> facts.learn(zk, p, d == null ? null : d.stat(), d == null ? -1 : ZnodeLayout.revision(p, d.stat(), d.data())))
                        .thenAccept(d -> snapshot.put(p, d == null ? new BatchPlanner.SnapNode(null, null, null)
                                : new BatchPlanner.SnapNode(ConditionCache.withMzxid(d.stat(), ZnodeLayout.revision(p, d.stat(), d.data())),
                                ZnodeLayout.withoutSub(d.data()), null))));
            } else {
                reads.add(ZkCalls.exists(zk, p, s -> facts.learn(zk, p, s, -1)).thenAccept(s -> snapshot.put(p, new BatchPlanner.SnapNode(s, null, null))));
            }
        }
        CompletableFuture<Void> first = CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new));
        if (needs.listedKeys().isEmpty()) {
            return first.thenApply(v -> snapshot);
        }
        return first.thenCompose(v -> {
            List<String> roots = new ArrayList<>();
            for (RegistryPath k : needs.listedKeys()) {
                String kp = layout.keyPath(k);
                BatchPlanner.SnapNode n = snapshot.get(kp);
                if (n != null && n.stat() != null && !roots.contains(kp)) {
                    roots.add(kp);
                }
            }
            return listLevel(zk, roots, snapshot);
        }).thenApply(v -> snapshot);
    }

    /** Lists a level of subtrees (one pipelined round trip per level) and recurses into the key children. */
    private CompletableFuture<Void> listLevel(ZooKeeper zk, List<String> level, Map<String, BatchPlanner.SnapNode> snapshot) {
        if (level.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return ZkCalls.getChildrenAll(zk, level).thenCompose(reads -> {
            List<String> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i++) {
                String p = level.get(i);
                ZkCalls.Children ch = reads.get(i);
                if (ch == null) {
                    // gone since the first round: planning deletes it anyway and the multi fails, then we re-plan
                    snapshot.computeIfPresent(p, (k, old) -> new BatchPlanner.SnapNode(old.stat(), old.data(), List.of()));
                    snapshot.putIfAbsent(p, new BatchPlanner.SnapNode(ch == null ? new Stat() : ch.stat(), null, List.of()));
                    continue;
                }
                if (!addListing(snapshot, p, ch.stat(), ch.names())) {
                    continue;
                }
                for (String c : ch.names()) {
                    if (!ZnodeLayout.isValueChild(c)) {
                        next.add(p + "/" + c);
                    }
                }
            }
            return listLevel(zk, next, snapshot);
        });
    }

    /**
     * Adds the listing of {@code path} (its stat and children, read now) to the snapshot; false when
     * it is not to be listed further. A first-round stat is kept: the incarnation argument needs
     * ancestors read before descendants. A node the first round found absent was created since: a
     * stat read now comes after its descendants', so it stays absent and unlisted; the planner skips
     * it, the multi built on that fails (the node exists), and the batch is planned again.
     */
    static boolean addListing(Map<String, BatchPlanner.SnapNode> snapshot, String path, Stat stat, List<String> children) {
        BatchPlanner.SnapNode first = snapshot.get(path);
        if (first != null && first.stat() == null) {
            return false;
        }
        snapshot.put(path, first == null ? new BatchPlanner.SnapNode(stat, null, children)
                : new BatchPlanner.SnapNode(first.stat(), first.data(), children));
        return true;
    }

    private CompletableFuture<CommitResult> execute(ZooKeeper zk, WriteBatch batch, BatchPlanner.Plan plan, long snapshotSequence, long deadline) {
        if (plan.failedCondition() >= 0) {
            ConditionFailedException failed = new ConditionFailedException(plan.failedCondition(), batch.commands().get(plan.failedCondition()));
            if (plan.ops().isEmpty()) {
                return CompletableFuture.failedFuture(failed);
            }
            // the proof checks every fact the batch rested on: as large as the guards a change would send, and a
            // request over the servers' limit would only drop the connection ("Len error"), again on each retry
            checkRequestSize(plan.ops());
            return answered(ZkCalls.multi(zk, plan.ops())).handle((results, t) -> {
                Throwable cause = t == null ? null : ZkCalls.unwrap(t);
                if (cause instanceof ZkCalls.MultiFailure mf && mf.failedOp() == plan.ops().size() - 1) {
                    throw failed; // every fact held: the condition was false when the multi ran
                }
                if (cause != null && !(cause instanceof ZkCalls.MultiFailure)) {
                    throw new CompletionException(cause);
                }
                if (cause instanceof ZkCalls.MultiFailure mf && mf.failedOp() >= 0 && mf.failedOp() < plan.ops().size()) {
                    forget(plan.ops().get(mf.failedOp()).getPath()); // a cached fact was stale: never plan on it again
                }
                throw new Replan("a fact behind a false condition changed");
            });
        }
        if (!plan.changesSomething()) {
            // the snapshot's server may be behind one this instance heard from (a new local session on a lagging
            // follower): a result is never below a batch committed before it
            if (plan.ops().isEmpty()) {
                return CompletableFuture.completedFuture(new CommitResult(lastSequence.accumulateAndGet(snapshotSequence, Math::max)));
            }
            checkRequestSize(plan.ops());
            return answered(ZkCalls.multi(zk, plan.ops())).handle((results, t) -> {
                if (t == null) {
                    return new CommitResult(lastSequence.accumulateAndGet(snapshotSequence, Math::max));
                }
                Throwable cause = ZkCalls.unwrap(t);
                if (cause instanceof ZkCalls.MultiFailure) {
                    throw new Replan("the snapshot changed before the multi");
                }
                throw new CompletionException(cause); // connection problems: retried, this multi changes nothing
            });
        }
        String bucket = bucketPath(System.currentTimeMillis());
        String entry = bucket + "/" + instanceId + "-" + entryCounter.incrementAndGet();
        List<Op> ops = new ArrayList<>(plan.ops());
        ops.add(Op.setData(layout.seq, EMPTY, -1));
        int sequenceOp = ops.size() - 1;
        ops.add(Op.create(entry, ZnodeLayout.encodeLogEntry(plan.changes()), acl, CreateMode.PERSISTENT));
        long size = BatchPlanner.requestSize(ops);
        if (size > options.maxRequestBytes()) {
            return CompletableFuture.failedFuture(new RegistryLimitException("the batch needs a ZooKeeper request of " + size + " bytes ("
                    + ops.size() + " znode operations); the limit is " + options.maxRequestBytes() + " bytes (option maxRequestBytes, which must match"
                    + " jute.maxbuffer of the servers); nothing was sent", size, options.maxRequestBytes()));
        }
        // the new facts are learned on the event thread, in commit order, before anything reads them
        java.util.function.BiConsumer<List<OpResult>, Integer> learn = (results, sub) -> facts.committed(zk, plan.ops(), results,
                ((OpResult.SetDataResult) results.get(sequenceOp)).getStat().getMzxid(), sub);
        AtomicBoolean multiSent = new AtomicBoolean();
        return ensureBucket(zk, bucket).thenCompose(v -> {
            multiSent.set(true);
            return pipeline.send(zk, ops, size, learn);
        }).handle((sent, t) -> {
            if (t == null) {
                List<OpResult> results = sent.results();
                long sequence = ZnodeLayout.sequence(((OpResult.SetDataResult) results.get(sequenceOp)).getStat().getMzxid(), sent.sub());
                lastSequence.accumulateAndGet(sequence, Math::max);
                return CompletableFuture.completedFuture(new CommitResult(sequence));
            }
            Throwable cause = ZkCalls.unwrap(t);
            if (cause instanceof ZkCalls.MultiFailure mf) {
                oversized.answered(batch);
                int failedOp = mf.failedOp();
                if (failedOp >= 0 && failedOp < plan.ops().size()) {
                    forget(plan.ops().get(failedOp).getPath());
                } else if (failedOp == ops.size() - 1) {
                    ensuredBucket = "";
                }
                if (mf.code == KeeperException.Code.NOAUTH) {
                    return CompletableFuture.<CommitResult>failedFuture(notAuthorized(layout.chroot, cause));
                }
                return CompletableFuture.<CommitResult>failedFuture(new Replan("the snapshot changed before the multi (" + mf.code + " at op " + failedOp + ")"));
            }
            if (ZkCalls.isConnectionProblem(cause)) {
                return verifyAfterConnectionLoss(batch, plan, entry, size, deadline, cause, 0, multiSent.get());
            }
            return CompletableFuture.<CommitResult>failedFuture(cause);
        }).thenCompose(Function.identity());
    }

    /**
     * The multi's answer was lost. Fence its log entry: creating it ourselves makes the original
     * multi fail forever if it has not applied yet; finding it there (with the batch's content)
     * means it applied, at the entry's czxid.
     */
    private CompletableFuture<CommitResult> verifyAfterConnectionLoss(WriteBatch batch, BatchPlanner.Plan plan, String entry, long requestBytes,
                                                                      long deadline, Throwable lost, int verification, boolean sent) {
        LOG.info("{}: connection lost while committing ({}); verifying the outcome with the change-log entry {}", options.nodeName(), lost, entry);
        return awaitConnected(deadline).thenCompose(zk -> fence(zk, entry)
                .handle((r, t) -> {
                    if (t == null) {
                        // fenced: the original can no longer apply
                        RegistryLimitException tooLarge = oversized.fenced(batch, requestBytes);
                        if (tooLarge != null) {
                            return CompletableFuture.<CommitResult>failedFuture(tooLarge);
                        }
                        return CompletableFuture.<CommitResult>failedFuture(new Replan("the batch did not commit before the connection loss"));
                    }
                    Throwable cause = ZkCalls.unwrap(t);
                    if (cause instanceof ZkCalls.MultiFailure mf && mf.code == KeeperException.Code.NODEEXISTS) {
                        return answered(ZkCalls.getData(zk, entry)).handle((d, readFailed) -> {
                            if (readFailed != null) {
                                Throwable why = ZkCalls.unwrap(readFailed);
                                if (!ZkCalls.isConnectionProblem(why)) {
                                    return CompletableFuture.<CommitResult>failedFuture(why);
                                }
                                // the entry exists, so the batch most likely committed: read it again, never send the batch anew
                                return verifyAgain(batch, plan, entry, requestBytes, deadline, why, "entry unread", verification, sent);
                            }
                            if (d == null) {
                                // it was there (the batch's entry or an earlier verification's fence) and is collected now
                                return CompletableFuture.<CommitResult>failedFuture(sent ? entryCollected(entry, lost)
                                        : new Replan("the batch was not sent (the connection was lost while its log bucket was created)"));
                            }
                            if (ZnodeLayout.isFence(d.data())) {
                                return CompletableFuture.<CommitResult>failedFuture(new Replan("the batch did not commit before the connection loss"));
                            }
                            long sequence = ZnodeLayout.logEntrySequence(d.stat(), d.data());
                            committed(plan, sequence);
                            return CompletableFuture.completedFuture(new CommitResult(sequence));
                        }).thenCompose(Function.identity());
                    }
                    if (cause instanceof ZkCalls.MultiFailure mf && mf.code == KeeperException.Code.NONODE) {
                        if (!sent) {
                            // the connection was lost while the bucket was created, and it was not
                            return CompletableFuture.<CommitResult>failedFuture(new Replan("the batch was not sent (its log bucket is missing)"));
                        }
                        // The bucket existed before the batch was sent, so the primary's collection took it, maybe after
                        // the batch's multi had created the entry in it: sending the batch again could apply it twice
                        return CompletableFuture.<CommitResult>failedFuture(entryCollected(entry, lost));
                    }
                    if (ZkCalls.isConnectionProblem(cause)) {
                        return verifyAgain(batch, plan, entry, requestBytes, deadline, cause, "fence unanswered", verification, sent);
                    }
                    return CompletableFuture.<CommitResult>failedFuture(cause);
                }).thenCompose(Function.identity()))
                .exceptionallyCompose(t -> {
                    Throwable cause = ZkCalls.unwrap(t);
                    if (cause instanceof TimeoutException) {
                        return CompletableFuture.failedFuture(new RegistryUnavailableException("the connection to ZooKeeper was lost while the batch was in flight"
                                + " and no server answered within the failover timeout of " + options.failoverTimeoutMs()
                                + " ms: the batch may or may not have been committed (verify by reading; its change-log entry is " + entry + ")", lost, true));
                    }
                    if (cause instanceof RegistryClosedException) {
                        // the multi was sent: "closed" alone would read as "not written"
                        return CompletableFuture.failedFuture(new RegistryUnavailableException(describe() + " was closed while the outcome of a batch"
                                + " whose answer was lost was being verified: the batch may or may not have been committed (verify by reading;"
                                + " its change-log entry is " + entry + ")", lost, true));
                    }
                    if (cause instanceof Replan || cause instanceof RegistryLimitException) {
                        return CompletableFuture.failedFuture(cause); // proved not committed (fenced, or its bucket gone)
                    }
                    if (cause instanceof RegistryUnavailableException u && u.outcomeUnknown()) {
                        return CompletableFuture.failedFuture(cause); // a later verification's own verdict, already "unknown"
                    }
                    // no proof either way (Curator gave no handle, the fence or the entry's read was refused): the multi
                    // was sent, so an error of its own would read as "not written"
                    RegistryUnavailableException unknown = new RegistryUnavailableException("the connection to ZooKeeper was lost while the batch"
                            + " was in flight, and its outcome could not be verified (" + cause + "): the batch may or may not have been committed"
                            + " (verify by reading; its change-log entry is " + entry + ")", cause, true);
                    unknown.addSuppressed(lost);
                    return CompletableFuture.failedFuture(unknown);
                });
    }

    /** Creates the fence of a lost batch's change-log entry (a test may first make it fail). */
    private CompletableFuture<List<OpResult>> fence(ZooKeeper zk, String entry) {
        java.util.function.Consumer<String> hook = beforeFence;
        if (hook != null) {
            hook.accept(entry);
        }
        return answered(ZkCalls.multi(zk, List.of(Op.create(entry, ZnodeLayout.fenceEntry(), acl, CreateMode.PERSISTENT))));
    }

    /**
     * The evidence of a lost answer's outcome is gone: the change log's collection took the entry or its
     * bucket (the commit took longer than {@code feedRetention}, or this writer's clock is behind the
     * primary's). Neither "committed" nor "not committed" can be proved, so the batch is not sent again.
     */
    private RegistryUnavailableException entryCollected(String entry, Throwable lost) {
        return new RegistryUnavailableException("the connection to ZooKeeper was lost while the batch was in flight, and its change-log"
                + " entry " + entry + " (or its bucket) was collected before the outcome could be read (the commit took longer than"
                + " feedRetention of " + options.feedRetentionMs() + " ms allows, or this writer's clock is behind the primary's):"
                + " the batch may or may not have been committed (verify by reading)", lost, true);
    }

    /** {@link #verifyAfterConnectionLoss} once more after another lost answer, unless the deadline has passed. */
    private CompletableFuture<CommitResult> verifyAgain(WriteBatch batch, BatchPlanner.Plan plan, String entry, long requestBytes,
                                                        long deadline, Throwable lost, String unanswered, int verification, boolean sent) {
        if (System.nanoTime() >= deadline) {
            return CompletableFuture.failedFuture(new TimeoutException(unanswered));
        }
        return retryLater(verification, () -> verifyAfterConnectionLoss(batch, plan, entry, requestBytes, deadline, lost, verification + 1, sent));
    }

    /**
     * {@code next} after a pause that doubles with each retry (1 ms, 2 ms … 64 ms), on the completion
     * pool: a connection problem ZooKeeper reports at once (a session it refuses, a server that
     * closes at once) is not retried in a tight loop until the failover timeout, and a retry never
     * runs on the stack of the failure it follows.
     */
    private <T> CompletableFuture<T> retryLater(int retry, Supplier<CompletableFuture<T>> next) {
        long pauseMs = 1L << Math.min(retry, 6);
        java.util.function.LongConsumer observer = onRetryPause;
        if (observer != null) {
            observer.accept(pauseMs);
        }
        Executor later = CompletableFuture.delayedExecutor(pauseMs, TimeUnit.MILLISECONDS, task -> {
            try {
                completions.execute(task);
            } catch (RejectedExecutionException closed) {
                // closed meanwhile: the retry fails at once, but not on the JDK's one timer thread, which every delay shares
                ForkJoinPool.commonPool().execute(task);
            }
        });
        return CompletableFuture.supplyAsync(next, later).thenCompose(Function.identity());
    }

    /** The batch committed at {@code sequence}, as found by a fence: we have no results, so forget what it changed. */
    private void committed(BatchPlanner.Plan plan, long sequence) {
        lastSequence.accumulateAndGet(sequence, Math::max);
        for (Op op : plan.ops()) {
            if (op.getType() != ZooDefs.OpCode.check) {
                forget(op.getPath());
            }
        }
    }

    /** {@code f}, failed as a connection problem if ZooKeeper does not answer within the failover timeout. */
    private <T> CompletableFuture<T> answered(CompletableFuture<T> f) {
        return deadlines.watch(f);
    }

    private void forget(String path) {
        facts.forget(path);
    }

    private void checkRequestSize(List<Op> ops) {
        long size = BatchPlanner.requestSize(ops);
        if (size > options.maxRequestBytes()) {
            throw new RegistryLimitException("the batch needs a ZooKeeper request of " + size + " bytes; the limit is "
                    + options.maxRequestBytes() + " bytes (option maxRequestBytes); nothing was sent", size, options.maxRequestBytes());
        }
    }

    private String bucketPath(long millis) {
        long index = millis / BUCKET_MILLIS;
        BucketName last = lastBucket;
        if (last.index == index) {
            return last.path; // every commit asks; String.format was a visible part of a lone save's CPU time
        }
        String digits = Long.toString(index);
        String path = layout.log + "/b-" + "0".repeat(Math.max(0, 12 - digits.length())) + digits;
        lastBucket = new BucketName(index, path);
        return path;
    }

    private record BucketName(long index, String path) {
    }

    private volatile BucketName lastBucket = new BucketName(-1, "");

    private CompletableFuture<Void> ensureBucket(ZooKeeper zk, String bucket) {
        if (bucket.equals(ensuredBucket)) {
            return CompletableFuture.completedFuture(null);
        }
        return answered(ZkCalls.multi(zk, List.of(Op.create(bucket, EMPTY, acl, CreateMode.PERSISTENT)))).handle((r, t) -> {
            Throwable cause = t == null ? null : ZkCalls.unwrap(t);
            if (cause == null || cause instanceof ZkCalls.MultiFailure mf && mf.code == KeeperException.Code.NODEEXISTS) {
                ensuredBucket = bucket;
                return null;
            }
            if (cause instanceof ZkCalls.MultiFailure mf && mf.code != KeeperException.Code.NOAUTH) {
                // not the batch's own multi failing (a race to re-plan): nothing of the batch was sent, and retrying
                // until failoverTimeout would report a permanent cause (the log's key removed, a quota) as contention
                throw new CompletionException(new RegistryException("cannot create the change-log bucket " + bucket + " in "
                        + uri() + " (" + mf.code + (mf.code == KeeperException.Code.NONODE ? ": " + layout.chroot
                        + "'s log key is missing" : "") + "); nothing of the batch was sent"));
            }
            throw new CompletionException(cause);
        });
    }

    /** The primary deletes change-log buckets older than the retention. */
    private void collectLogGarbage() {
        if (closed || !membership.isPrimary()) {
            return;
        }
        try {
            collectLogGarbage(System.currentTimeMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.debug("change-log garbage collection failed; retrying later", e);
        }
    }

    /**
     * Deletes the change-log buckets older than {@code feedRetention} as of {@code nowMillis}, raising
     * the feed's horizon first (see {@link FeedHistory}). Tests call it with a later clock to expire
     * the history at once.
     */
    void collectLogGarbage(long nowMillis) throws KeeperException, InterruptedException {
        history.collect(zk(), nowMillis, options.feedRetentionMs());
    }

    /** For tests: the history (its reader's seam). */
    FeedHistory history() {
        return history;
    }

    // ---- change feed --------------------------------------------------------------------------------

    @Override
    public Watch watch(RegistryPath subtree, ChangeListener listener) {
        ensureOpen();
        java.util.Objects.requireNonNull(subtree, "subtree");
        java.util.Objects.requireNonNull(listener, "listener");
        // the feed now reads every entry: let it tell the condition cache what other instances changed
        feed.observe(this::observedBatch);
        ChangeFeed.FeedWatch w = feed.add(subtree, listener);
        try {
            long start = call("registering a watch", zk -> feed.start(w, false));
            lastSequence.accumulateAndGet(start, Math::max);
            return w;
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    /**
     * Registers the live part first, at the current sequence (the junction), and reads the history up
     * to it on a thread of its own; see {@link ChangeFeed.FeedWatch} for why the two meet without gap
     * or duplicate and {@link FeedHistory} for how the history is read.
     */
    @Override
    public Watch watch(RegistryPath subtree, long afterSequence, ChangeListener listener) {
        ensureOpen();
        java.util.Objects.requireNonNull(subtree, "subtree");
        java.util.Objects.requireNonNull(listener, "listener");
        if (afterSequence < 0) { // refused before anything is registered
            ReplayCheckpoints.requireReached(afterSequence, currentSequence(), uri());
        }
        feed.observe(this::observedBatch);
        ChangeFeed.FeedWatch w = feed.addReplaying(subtree, afterSequence, listener);
        try {
            long junction = call("registering a replaying watch", zk -> feed.start(w, true));
            lastSequence.accumulateAndGet(junction, Math::max);
            ReplayCheckpoints.requireReached(afterSequence, junction, uri());
            ReplayCheckpoints.requireRetained(afterSequence, replayableAfter(), history.retention());
            replays.execute(() -> history.replay(w, afterSequence));
            return w;
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    @Override
    public long replayableAfter() {
        return call("reading the change feed's horizon " + layout.feedHorizon, history::readHorizon);
    }

    /** Another instance's batch, seen in the change log: forget the facts it changed (ours are learned from our results). */
    private void observedBatch(String entry, List<Change> changes) {
        if (entry.substring(entry.lastIndexOf('/') + 1).startsWith(instanceId + "-")) {
            return;
        }
        for (Change c : changes) {
            if (c instanceof Change.ValueSet v) {
                facts.forget(layout.valuePath(v.key(), v.name()));
            } else if (c instanceof Change.ValueDeleted d) {
                facts.forget(layout.keyPath(d.key())); // its key's version was bumped too
            } else if (c instanceof Change.KeyCreated k) {
                facts.forget(layout.keyPath(k.key()));
            } else if (c instanceof Change.KeyDeleted k) {
                facts.forget(layout.keyPath(k.key().isRoot() ? k.key() : k.key().parent()));
            }
        }
    }

    // ---- membership and health ------------------------------------------------------------------

    /** Registries join by opening on the chroot: the members seen so far are not all there can be. */
    @Override
    public boolean listsEveryNode() {
        return false;
    }

    @Override
    public ClusterStatus status() {
        ensureOpen();
        return new ClusterStatus("zookeeper", options.nodeName(), membership.primary(), membership.nodes());
    }

    @Override
    public Subscription addMembershipListener(MembershipListener listener) {
        ensureOpen();
        return membership.addListener(java.util.Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public HealthReport checkHealth() {
        ensureOpen();
        long t0 = System.nanoTime();
        ConnectionState state = connectionState;
        try {
            ZooKeeper zk = zk();
            // sync goes through the leader: a round trip to the quorum, then a read on our server
            ZkCalls.sync(zk, layout.seq).thenCompose(v -> ZkCalls.exists(zk, layout.seq))
                    .get(options.connectionTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new HealthReport(false, "interrupted while probing", Duration.ofNanos(System.nanoTime() - t0));
        } catch (Exception e) {
            return new HealthReport(false, "connection " + state + "; the probe (sync + read of " + layout.seq + ") failed: "
                    + ZkCalls.unwrap(e), Duration.ofNanos(System.nanoTime() - t0));
        }
        Duration rtt = Duration.ofNanos(System.nanoTime() - t0);
        int live = membership.live().size();
        String nodes = live + " live node(s) (minNodes " + options.minNodes() + "), primary " + membership.primary().orElse("none");
        boolean healthy = live >= options.minNodes() && (state == ConnectionState.CONNECTED || state == ConnectionState.RECONNECTED);
        // a failure's detail holds no measurement: the same failure must read the same on every check (reported once)
        return new HealthReport(healthy, healthy ? "connection " + state + ", probe (sync + read) round trip " + rtt.toNanos() / 1000
                + " us, " + nodes : "connection " + state + ", " + nodes
                + (live < options.minNodes() ? "; too few live nodes: writes are refused" : ""), rtt);
    }

    @Override
    public List<HealthFault> healthFaults() {
        return call("listing health faults", zk -> ZkCalls.getChildren(zk, layout.faults).thenCompose(ch -> {
            List<CompletableFuture<ZkCalls.NodeData>> reads = new ArrayList<>();
            List<String> names = ch == null ? List.of() : ch.names();
            for (String n : names) {
                reads.add(ZkCalls.getData(zk, layout.faults + "/" + n));
            }
            return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
                List<HealthFault> out = new ArrayList<>();
                for (int i = 0; i < names.size(); i++) {
                    ZkCalls.NodeData d = reads.get(i).join();
                    if (d != null) {
                        out.add(ZnodeLayout.decodeFault(layout.faults + "/" + names.get(i), d.data()));
                    }
                }
                out.sort(java.util.Comparator.comparing(HealthFault::id));
                return out;
            });
        }));
    }

    @Override
    public void addHealthFault(HealthFault fault) {
        java.util.Objects.requireNonNull(fault, "fault");
        String path = layout.faults + "/" + ZnodeLayout.escape(fault.id());
        byte[] data = ZnodeLayout.encodeFault(fault);
        call("adding health fault " + fault.id(), zk -> upsert(zk, path, data, 0));
    }

    private CompletableFuture<Void> upsert(ZooKeeper zk, String path, byte[] data, int attempt) {
        return ZkCalls.multi(zk, List.of(Op.setData(path, data, -1))).handle((r, t) -> {
            if (t == null) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            Throwable cause = ZkCalls.unwrap(t);
            if (cause instanceof ZkCalls.MultiFailure mf && mf.code == KeeperException.Code.NONODE && attempt < 10) {
                return ZkCalls.multi(zk, List.of(Op.create(path, data, acl, CreateMode.PERSISTENT))).handle((r2, t2) -> {
                    if (t2 == null) {
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    Throwable c2 = ZkCalls.unwrap(t2);
                    if (c2 instanceof ZkCalls.MultiFailure mf2 && mf2.code == KeeperException.Code.NODEEXISTS) {
                        return upsert(zk, path, data, attempt + 1);
                    }
                    return CompletableFuture.<Void>failedFuture(c2);
                }).thenCompose(Function.identity());
            }
            return CompletableFuture.<Void>failedFuture(cause);
        }).thenCompose(Function.identity());
    }

    @Override
    public boolean removeHealthFault(String id) {
        RegistryPath.checkName(id, "health fault id");
        String path = layout.faults + "/" + ZnodeLayout.escape(id);
        // a delete whose answer was lost is retried, and then finds nothing: whether it existed is known
        // only if it was seen to exist before the first delete (a check in a multi: answered after
        // every write before it, not by a lagging server's read)
        AtomicBoolean existed = new AtomicBoolean();
        AtomicBoolean deleteSent = new AtomicBoolean();
        return call("removing health fault " + id, zk -> {
            CompletableFuture<Boolean> present = existed.get() ? CompletableFuture.completedFuture(true)
                    : ZkCalls.multi(zk, List.of(Op.check(path, -1))).handle((r, t) -> {
                        if (t == null) {
                            return true;
                        }
                        if (isNoNode(t)) {
                            return false;
                        }
                        throw new CompletionException(ZkCalls.unwrap(t));
                    });
            return present.thenCompose(exists -> {
                if (!exists) {
                    return CompletableFuture.completedFuture(false);
                }
                existed.set(true);
                boolean resent = !deleteSent.compareAndSet(false, true);
                return ZkCalls.multi(zk, List.of(Op.delete(path, -1))).handle((r, t) -> {
                    if (t == null) {
                        return true;
                    }
                    if (isNoNode(t)) {
                        // resent: our first delete (whose answer was lost) or a concurrent remover's took it
                        return resent;
                    }
                    throw new CompletionException(ZkCalls.unwrap(t));
                });
            });
        });
    }

    private static boolean isNoNode(Throwable t) {
        return ZkCalls.unwrap(t) instanceof ZkCalls.MultiFailure mf && mf.code == KeeperException.Code.NONODE;
    }

    // ---- administrator-initiated failover and drain (Membership does the work; kept apart from reads and commits) ----

    @Override
    public String failover(Optional<String> target) {
        ensureOpen();
        java.util.Objects.requireNonNull(target, "target");
        target.ifPresent(t -> RegistryPath.checkName(t, "node name"));
        return membership.failover(target, currentSequence(), options.failoverTimeoutMs());
    }

    @Override
    public void drain(String node) {
        ensureOpen();
        RegistryPath.checkName(node, "node name");
        membership.drain(node, options.failoverTimeoutMs());
    }

    @Override
    public void resume(String node) {
        ensureOpen();
        RegistryPath.checkName(node, "node name");
        membership.resume(node, options.failoverTimeoutMs());
    }

    /**
     * This node's answer when asked to become the primary. Healthy: its own {@link #checkHealth()}
     * (connected, a sync through the leader answered, minNodes met). Caught up: after that sync, its
     * server shows at least the commit sequence the asking registry had seen.
     */
    private Optional<NodeOperationRefusedException> takeoverCheck(long requiredSequence) {
        HealthReport health = checkHealth();
        if (!health.healthy()) {
            return Optional.of(new NodeOperationRefusedException(NodeOperationRefusedException.Reason.UNHEALTHY, options.nodeName(),
                    "node " + options.nodeName() + " is unhealthy: " + health.detail()));
        }
        long seen = currentSequence();
        if (seen < requiredSequence) {
            return Optional.of(new NodeOperationRefusedException(NodeOperationRefusedException.Reason.NOT_CAUGHT_UP, options.nodeName(),
                    "node " + options.nodeName() + " has seen commit sequence " + seen + ", older than " + requiredSequence
                            + ", which the asking registry had seen"));
        }
        return Optional.empty();
    }

    /** The ZooKeeper servers this registry's URI names, as written there. */
    private List<String> configuredServers() {
        return List.of(options.connectString().split(","));
    }

    /**
     * Connects only to servers an administrator has not drained: the ensemble provider's list (used
     * whenever Curator makes a new handle) and the live handle's ({@code updateServerList}, which moves
     * the connection, keeping the session, when its server left the list). All drained: all of them.
     */
    private void avoidServers(java.util.Set<String> drainedServers) {
        List<String> kept = configuredServers().stream().filter(s -> !drainedServers.contains(s)).toList();
        if (kept.isEmpty()) {
            LOG.warn("every server of {} is drained ({}); connecting to all of them", uri(), drainedServers);
            kept = configuredServers();
        }
        String servers = String.join(",", kept);
        if (servers.equals(ensemble.getConnectionString())) {
            return;
        }
        LOG.info("{} connects to {} (drained servers: {})", uri(), servers, drainedServers);
        ensemble.setConnectionString(servers);
        try {
            zk().updateServerList(servers);
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warn("{} could not switch its connection to {}; it will on its next reconnect", uri(), servers, e);
        }
    }

    // ---- lifecycle -----------------------------------------------------------------------------------

    @Override
    public void close() {
        synchronized (connectionLock) {
            if (closed) {
                return;
            }
            closed = true;
            connected.completeExceptionally(new RegistryClosedException(describe()));
        }
        pipeline.close(() -> new RegistryClosedException(describe()));
        feed.closeAll();
        replays.shutdownNow();
        maintenance.shutdownNow();
        sweeper.shutdownNow();
        try {
            membership.close();
        } catch (RuntimeException e) {
            LOG.debug("closing membership", e);
        }
        client.close();
        completions.shutdown();
    }

    @Override
    public String toString() {
        return "ZooKeeperRegistry[" + uri() + ", node " + options.nodeName() + "]";
    }

    /** For tests: the Curator client (its ZooKeeper handle), e.g. to inject a session expiry. */
    CuratorFramework curator() {
        return client;
    }

    /** For tests: change-log entries this registry's feed read (its own batches' entries it takes from what it sent). */
    long changeLogEntriesRead() {
        return feed.entriesRead.get();
    }

    /** For tests: events the change-log watch delivered (none until a watch or a capture wants it). */
    long changeLogEventsReceived() {
        return feed.eventsReceived.get();
    }

    /** For tests: how many snapshots commits have read. */
    long snapshotReads() {
        return snapshotReads.get();
    }

    /** For tests: the commit pipeline (group commit counters). */
    ZooKeeperCommitPipeline pipeline() {
        return pipeline;
    }

    /** For tests: what the registry knows of znodes. */
    ConditionCache conditionCache() {
        return facts;
    }

    /** For tests: the layout of the znodes. */
    ZnodeLayout layout() {
        return layout;
    }
}
