package dev.reliablestore.tx.jta;

import com.arjuna.ats.arjuna.common.ObjectStoreEnvironmentBean;
import com.arjuna.ats.arjuna.common.arjPropertyManager;
import com.arjuna.ats.arjuna.common.recoveryPropertyManager;
import com.arjuna.ats.arjuna.coordinator.TransactionReaper;
import com.arjuna.ats.arjuna.coordinator.TxControl;
import com.arjuna.ats.arjuna.recovery.RecoveryManager;
import com.arjuna.ats.arjuna.recovery.RecoveryModule;
import com.arjuna.ats.internal.jta.recovery.arjunacore.XARecoveryModule;
import com.arjuna.ats.jta.common.jtaPropertyManager;
import com.arjuna.ats.jta.recovery.XAResourceRecoveryHelper;
import com.arjuna.common.internal.util.propertyservice.BeanPopulator;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spi.tx.TransactionalResource;
import jakarta.transaction.TransactionManager;

import javax.sql.DataSource;
import javax.sql.XADataSource;
import javax.transaction.xa.XAResource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

/**
 * Narayana JTA in standalone mode, configured in code, with ReliableStore stores that join the
 * current JTA transaction and a recovery helper so Narayana's recovery manager finishes in-doubt
 * branches after a restart.
 *
 * <pre>{@code
 * try (NarayanaJta jta = NarayanaJta.builder()
 *         .objectStoreDirectory(Path.of("/var/lib/app/tx-object-store"))
 *         .nodeIdentifier("app-1")
 *         .start()) {
 *     EntityStore<Account> accounts = jta.store(storeFactory, Account.class);   // joins JTA transactions
 *     TransactionManager tm = jta.transactionManager();
 *     tm.begin();
 *     accounts.save("A-1", new Account(100));
 *     dataSourceConnection... // any other XA resource enlisted in the same transaction
 *     tm.commit();
 * }
 * }</pre>
 *
 * <h2>Configuration (builder keys, defaults, limits)</h2>
 * <ul>
 * <li>{@code objectStoreDirectory} — required. Narayana's transaction log (all three of its object
 *     stores: default, communicationStore, stateStore). Must survive restarts.</li>
 * <li>{@code nodeIdentifier} — required; 1..28 characters of {@code [A-Za-z0-9._-]} (28 bytes is
 *     Narayana's {@code TxControl.NODE_NAME_SIZE}: it writes the name into every global transaction id).
 *     Unique per transaction-manager process sharing a resource.</li>
 * <li>{@code recoveryNodes} — default {@code [nodeIdentifier]}: the nodes whose orphaned branches
 *     (prepared, and no log <em>in this process's object store</em>) this process may roll back;
 *     {@code "*"} means all. List another node only when this process reads that node's object store
 *     (it took the store over): a branch whose commit that node logged in its own store looks like an
 *     orphan here, and rolling it back while the other node commits its other resources breaks
 *     atomicity with no heuristic reported.</li>
 * <li>{@code defaultTimeout} — default 60 s; 1 s .. 24 h, whole seconds. The JTA transaction timeout.</li>
 * <li>{@code orphanSafetyInterval} — default 20 s; 0 .. 1 h. How long an orphaned branch must have
 *     been seen before recovery rolls it back (so an in-flight transaction is not mistaken for one).</li>
 * <li>{@code recoveryBackoff} — default 10 s; 1 s .. 1 h, whole seconds. The pause between the two
 *     passes of one recovery scan.</li>
 * <li>{@code periodicRecovery} — default 120 s; 1 s .. 24 h, whole seconds: a background thread scans
 *     this often. {@code manualRecovery()} instead: no thread, call {@link #recoverNow()}.</li>
 * <li>{@code recoveryResource} — resources whose prepared branches recovery looks at (repeatable);
 *     stores taken with {@link #store} add their resource too.</li>
 * </ul>
 *
 * <p>Narayana reads its configuration into static state once per JVM, so only one instance may be
 * started at a time, and a later start in the same JVM must use the same configuration
 * (otherwise {@link ConfigurationException}).
 */
public final class NarayanaJta implements AutoCloseable {

    static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._-]{1,28}");

    private static final Object LOCK = new Object();
    private static NarayanaJta running;
    private static Settings configured;

    private record Settings(Path objectStore, String node, List<String> recoveryNodes, int timeoutSeconds,
                            int orphanSafetyMillis, int backoffSeconds, int periodSeconds) {
    }

    private final Settings settings;
    /** One per resource, in the order added: its adapters (for stores, recovery and callers alike) and enlistments. */
    private final List<JtaEntityStore.Enlistments> resources = new CopyOnWriteArrayList<>();
    private final XAResourceRecoveryHelper helper = new XAResourceRecoveryHelper() {
        @Override
        public boolean initialise(String p) {
            return true;
        }

        @Override
        public XAResource[] getXAResources() {
            // a resource found closed by an earlier scan is dropped: a factory opened for each unit of work would
            // otherwise be kept, and fail every scan, for the life of the process
            resources.removeIf(e -> e.xa().closed());
            // adapters of the owners the stores enlist with, so recovery sees the live branches too
            return resources.stream().map(e -> e.xa().adapter()).toArray(XAResource[]::new);
        }
    };
    private final List<XAResourceRecoveryHelper> extraHelpers = new CopyOnWriteArrayList<>();
    private final List<JtaDataSource.Recovery> dataSourceRecoveries = new CopyOnWriteArrayList<>();
    private RecoveryManager recoveryManager;
    private XARecoveryModule xaModule;
    private boolean closed;

    private NarayanaJta(Settings settings, List<TransactionalResource> resources) {
        this.settings = settings;
        resources.forEach(this::registered);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Narayana's transaction manager. */
    public TransactionManager transactionManager() {
        return com.arjuna.ats.jta.TransactionManager.transactionManager();
    }

    /** A store of the factory's provider that joins the current JTA transaction (see the class comment). */
    public <T> EntityStore<T> store(StoreFactory factory, Class<T> type) {
        return store(factory, type.getSimpleName(), type);
    }

    /**
     * A store of the entity type that joins the current JTA transaction: inside one, reads and writes
     * go through the transaction (first use enlists the factory's resource); outside, straight to the
     * store. The factory's resource is added to the recovery resources.
     *
     * @throws IllegalArgumentException when the factory's provider does not support transactions
     */
    public <T> EntityStore<T> store(StoreFactory factory, String typeName, Class<T> type) {
        JtaEntityStore.Enlistments e = registered(TransactionalResource.from(factory));
        return new JtaEntityStore<>(transactionManager(), factory.store(typeName, type), type, e);
    }

    /** Adds a resource whose prepared branches recovery should finish (no-op if already added). */
    public void addRecoveryResource(TransactionalResource resource) {
        registered(resource);
    }

    /**
     * The XA adapters of the resource that this instance's stores and recovery use (one per resource
     * instance); enlist adapters from it when enlisting the resource by hand, so that they share
     * branches with the stores and with recovery. Adds the resource to the recovery resources.
     */
    public XaResources xaResources(TransactionalResource resource) {
        return registered(resource).xa();
    }

    /** Whether recovery scans {@code resource}: added, or a store of its factory was taken from this instance. */
    public boolean recovers(TransactionalResource resource) {
        synchronized (resources) {
            return resources.stream().anyMatch(e -> e.xa().resource() == resource);
        }
    }

    /** How many resources recovery scans (tests). */
    int registeredResources() {
        return resources.size();
    }

    private JtaEntityStore.Enlistments registered(TransactionalResource resource) {
        Objects.requireNonNull(resource, "resource");
        synchronized (resources) {
            for (JtaEntityStore.Enlistments e : resources) {
                if (e.xa().resource() == resource) {
                    return e;
                }
            }
            JtaEntityStore.Enlistments e = new JtaEntityStore.Enlistments(new BranchAssociations(resource));
            resources.add(e);
            return e;
        }
    }

    /**
     * Registers recovery for another XA resource manager used in the same transactions (e.g. a
     * database's {@code XADataSource}); removed again on {@link #close()}.
     */
    public void addRecoveryHelper(XAResourceRecoveryHelper other) {
        Objects.requireNonNull(other, "helper");
        xaModule.addXAResourceRecoveryHelper(other);
        extraHelpers.add(other);
    }

    /**
     * A {@link DataSource} over a database's {@link XADataSource} whose connections join the current
     * JTA transaction, so one transaction spans the database and ReliableStore stores: inside a
     * transaction every connection of the same transaction is the same one (its {@code close()} ends
     * only the handle; the XA connection is closed when the transaction completes), outside one a
     * plain auto-commit connection. Recovery looks at the database's prepared branches too (through
     * one XA connection kept for the scans, closed on {@link #close()}); the connection of a branch
     * whose phase two failed stays open until {@link #close()}, since some drivers (H2) drop a
     * prepared branch when its connection closes. No pooling: one physical connection per transaction.
     *
     * <p>Its name is the driver's class and a hash of its URL ({@code getURL()} or {@code getUrl()});
     * see {@link #dataSource(String, XADataSource)}. A driver with neither gets no name.
     */
    public DataSource dataSource(XADataSource xa) {
        Objects.requireNonNull(xa, "xa");
        return dataSource(JtaDataSource.defaultName(xa), xa);
    }

    /**
     * {@link #dataSource(XADataSource)} with a name for the database (null: none), as a JNDI name: the
     * same in every run, and different for every database (resource manager) of this process. Narayana logs it with the
     * database's branch; after a crash that came once the database had committed (it no longer reports the
     * branch) and before another resource did, recovery finishes the others and, seeing the name among the
     * resources it could scan, removes the log. Without a name that log stays, warned about at every scan.
     * Two databases with one name would be worse: with one of them unreachable, its branch would be taken
     * for committed while it is still prepared, and later rolled back as an orphan.
     */
    public DataSource dataSource(String name, XADataSource xa) {
        Objects.requireNonNull(xa, "xa");
        if (name != null && name.isBlank()) {
            throw new IllegalArgumentException("a data source's name must not be blank");
        }
        JtaDataSource.Recovery recovery = new JtaDataSource.Recovery(xa, name);
        addRecoveryHelper(recovery);
        dataSourceRecoveries.add(recovery);
        return new JtaDataSource(xa, transactionManager(), recovery);
    }

    /**
     * Runs one recovery scan now and returns when it is done: finishes logged transactions (phase 2)
     * and rolls back orphans of the recovery nodes that were seen at least {@code orphanSafetyInterval}
     * ago — so an orphan seen for the first time is rolled back by a later scan.
     */
    public void recoverNow() {
        recoveryManager.scan();
    }

    /**
     * Stops recovery, Narayana's transaction reaper and its transaction status listener; no Narayana
     * thread is left running and no new JTA transaction can begin until the next {@code start()}.
     */
    @Override
    public void close() {
        synchronized (LOCK) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (xaModule != null) {
                    xaModule.removeXAResourceRecoveryHelper(helper);
                    extraHelpers.forEach(xaModule::removeXAResourceRecoveryHelper);
                }
                recoveryManager.terminate();
                dataSourceRecoveries.forEach(JtaDataSource.Recovery::close);
                TransactionReaper.terminate(false);
                TxControl.disable(true); // also stops the transaction status listener thread

            } finally {
                running = null;
            }
        }
    }

    private void startRecovery() {
        if (settings.periodSeconds() == 0) {
            recoveryManager = RecoveryManager.manager(RecoveryManager.DIRECT_MANAGEMENT);
        } else {
            RecoveryManager.delayRecoveryManagerThread();
            recoveryManager = RecoveryManager.manager(RecoveryManager.INDIRECT_MANAGEMENT);
        }
        recoveryManager.initialize();
        for (RecoveryModule m : recoveryManager.getModules()) {
            if (m instanceof XARecoveryModule x) {
                xaModule = x;
            }
        }
        if (xaModule == null) {
            recoveryManager.terminate();
            throw new ConfigurationException("Narayana's recovery manager has no XARecoveryModule configured;"
                    + " check RecoveryEnvironmentBean.recoveryModuleClassNames");
        }
        xaModule.addXAResourceRecoveryHelper(helper);
        if (settings.periodSeconds() != 0) {
            recoveryManager.startRecoveryManagerThread();
        }
    }

    private static void configure(Settings s) {
        String dir = s.objectStore().toAbsolutePath().toString();
        BeanPopulator.getDefaultInstance(ObjectStoreEnvironmentBean.class).setObjectStoreDir(dir);
        BeanPopulator.getNamedInstance(ObjectStoreEnvironmentBean.class, "communicationStore").setObjectStoreDir(dir);
        BeanPopulator.getNamedInstance(ObjectStoreEnvironmentBean.class, "stateStore").setObjectStoreDir(dir);
        try {
            arjPropertyManager.getCoreEnvironmentBean().setNodeIdentifier(s.node());
        } catch (Exception e) {
            throw new ConfigurationException("Narayana refused node identifier \"" + s.node() + "\": " + e, e);
        }
        arjPropertyManager.getCoordinatorEnvironmentBean().setDefaultTimeout(s.timeoutSeconds());
        jtaPropertyManager.getJTAEnvironmentBean().setXaRecoveryNodes(new ArrayList<>(s.recoveryNodes()));
        jtaPropertyManager.getJTAEnvironmentBean().setOrphanSafetyInterval(s.orphanSafetyMillis());
        jtaPropertyManager.getJTAEnvironmentBean().setXAResourceRecordWrappingPlugin(new NamingPlugin());
        recoveryPropertyManager.getRecoveryEnvironmentBean().setRecoveryBackoffPeriod(s.backoffSeconds());
        if (s.periodSeconds() > 0) {
            recoveryPropertyManager.getRecoveryEnvironmentBean().setPeriodicRecoveryPeriod(s.periodSeconds());
        }
    }

    /** Builds and starts {@link NarayanaJta}; see its class comment for the keys. */
    public static final class Builder {
        private Path objectStore;
        private String node;
        private List<String> recoveryNodes;
        private Duration timeout = Duration.ofSeconds(60);
        private Duration orphanSafety = Duration.ofSeconds(20);
        private Duration backoff = Duration.ofSeconds(10);
        private Duration period = Duration.ofSeconds(120);
        private final List<TransactionalResource> resources = new ArrayList<>();

        private Builder() {
        }

        public Builder objectStoreDirectory(Path dir) {
            this.objectStore = Objects.requireNonNull(dir, "objectStoreDirectory");
            return this;
        }

        public Builder nodeIdentifier(String id) {
            Objects.requireNonNull(id, "nodeIdentifier");
            if (!NODE_ID.matcher(id).matches()) {
                throw new IllegalArgumentException("node identifier must be 1..28 characters of [A-Za-z0-9._-], got \"" + id + "\"");
            }
            this.node = id;
            return this;
        }

        public Builder recoveryNodes(List<String> nodes) {
            Objects.requireNonNull(nodes, "recoveryNodes");
            for (String n : nodes) {
                if (!"*".equals(n) && !NODE_ID.matcher(n).matches()) {
                    throw new IllegalArgumentException("a recovery node must be \"*\" or a node identifier (1..28 characters of"
                            + " [A-Za-z0-9._-]), got \"" + n + "\"");
                }
            }
            this.recoveryNodes = List.copyOf(nodes);
            return this;
        }

        public Builder defaultTimeout(Duration d) {
            this.timeout = wholeSeconds(d, "defaultTimeout", 1, 86_400);
            return this;
        }

        public Builder orphanSafetyInterval(Duration d) {
            Objects.requireNonNull(d, "orphanSafetyInterval");
            if (d.isNegative() || d.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("orphanSafetyInterval must be 0 .. 1 h, got " + d);
            }
            this.orphanSafety = d;
            return this;
        }

        public Builder recoveryBackoff(Duration d) {
            this.backoff = wholeSeconds(d, "recoveryBackoff", 1, 3_600);
            return this;
        }

        public Builder periodicRecovery(Duration d) {
            this.period = wholeSeconds(d, "periodicRecovery", 1, 86_400);
            return this;
        }

        /** No recovery thread: recovery runs only when {@link NarayanaJta#recoverNow()} is called. */
        public Builder manualRecovery() {
            this.period = Duration.ZERO;
            return this;
        }

        public Builder recoveryResource(TransactionalResource resource) {
            resources.add(Objects.requireNonNull(resource, "resource"));
            return this;
        }

        /**
         * Configures Narayana (first start in this JVM) and starts recovery.
         *
         * @throws ConfigurationException when a required key is missing, another instance is running,
         *         or this JVM's Narayana was configured differently before
         */
        public NarayanaJta start() {
            if (objectStore == null || node == null) {
                throw new ConfigurationException("NarayanaJta needs objectStoreDirectory and nodeIdentifier; got "
                        + objectStore + " and " + node);
            }
            Settings s = new Settings(objectStore.toAbsolutePath().normalize(), node,
                    recoveryNodes == null ? List.of(node) : recoveryNodes, (int) timeout.getSeconds(),
                    (int) orphanSafety.toMillis(), (int) backoff.getSeconds(), (int) period.getSeconds());
            synchronized (LOCK) {
                if (running != null) {
                    throw new ConfigurationException("a NarayanaJta is already running in this JVM (node "
                            + running.settings.node() + "); close it first");
                }
                if (configured == null) {
                    configure(s);
                    configured = s;
                } else if (!configured.equals(s)) {
                    throw new ConfigurationException("Narayana reads its configuration once per JVM; this JVM was configured with "
                            + configured + " and cannot switch to " + s);
                }
                if (!TxControl.isEnabled()) {
                    TxControl.enable(); // after a close in this JVM
                }
                NarayanaJta jta = new NarayanaJta(s, resources);
                jta.startRecovery();
                running = jta;
                return jta;
            }
        }

        private static Duration wholeSeconds(Duration d, String key, long min, long max) {
            Objects.requireNonNull(d, key);
            if (d.getNano() != 0 || d.getSeconds() < min || d.getSeconds() > max) {
                throw new IllegalArgumentException(key + " must be whole seconds in " + min + " .. " + max + " s, got " + d);
            }
            return d;
        }
    }
}
