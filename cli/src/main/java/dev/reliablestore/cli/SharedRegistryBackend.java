package dev.reliablestore.cli;

import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.HealthReport;
import dev.reliablestore.registry.MembershipListener;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.spi.ClusterRegistryBackend;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets the cluster-registry provider run on a registry connection the tool already holds. The tool
 * needs the raw registry (consistent snapshots, the change feed, membership) and the provider's value
 * pipeline at the same time, while an embedded registry can be opened only once per process. The
 * provider opens registries by URI only, so the tool lends its connection under a private URI
 * ({@code cli-shared:<token>}); what the provider gets is a view whose {@code close()} leaves the
 * connection to its owner.
 */
public final class SharedRegistryBackend implements ClusterRegistryBackend {

    static final String SCHEME = "cli-shared";
    private static final Map<String, ClusterRegistry> LENT = new ConcurrentHashMap<>();

    /** A registration of a lent connection; closing it withdraws the URI. */
    record Loan(String uri, String token) implements AutoCloseable {
        @Override
        public void close() {
            LENT.remove(token);
        }
    }

    static Loan lend(ClusterRegistry registry) {
        String token = UUID.randomUUID().toString();
        LENT.put(token, registry);
        return new Loan(SCHEME + ":" + token, token);
    }

    @Override
    public String scheme() {
        return SCHEME;
    }

    @Override
    public ClusterRegistry open(URI uri, Map<String, String> options) {
        if (!options.isEmpty()) {
            throw new RegistryArgumentException("a lent registry connection takes no options; got " + options.keySet());
        }
        ClusterRegistry registry = LENT.get(uri.getSchemeSpecificPart());
        if (registry == null) {
            throw new RegistryArgumentException("no registry connection is lent under " + uri);
        }
        return new Borrowed(registry);
    }

    /** Everything but {@code close()} goes to the owner's connection. */
    private record Borrowed(ClusterRegistry owner) implements ClusterRegistry {

        @Override
        public String uri() {
            return owner.uri();
        }

        @Override
        public RegistryLimits limits() {
            return owner.limits();
        }

        @Override
        public Optional<VersionedValue> getValue(RegistryPath key, String name) {
            return owner.getValue(key, name);
        }

        @Override
        public boolean keyExists(RegistryPath key) {
            return owner.keyExists(key);
        }

        @Override
        public List<String> subkeys(RegistryPath key) {
            return owner.subkeys(key);
        }

        @Override
        public Map<String, VersionedValue> values(RegistryPath key) {
            return owner.values(key);
        }

        @Override
        public ReadBatchResult read(ReadBatch batch) {
            return owner.read(batch);
        }

        @Override
        public long currentSequence() {
            return owner.currentSequence();
        }

        @Override
        public CommitResult commit(WriteBatch batch) {
            return owner.commit(batch);
        }

        @Override
        public CompletableFuture<CommitResult> commitAsync(WriteBatch batch) {
            return owner.commitAsync(batch);
        }

        @Override
        public Watch watch(RegistryPath subtree, ChangeListener listener) {
            return owner.watch(subtree, listener);
        }

        @Override
        public ClusterStatus status() {
            return owner.status();
        }

        @Override
        public Subscription addMembershipListener(MembershipListener listener) {
            return owner.addMembershipListener(listener);
        }

        @Override
        public HealthReport checkHealth() {
            return owner.checkHealth();
        }

        @Override
        public List<HealthFault> healthFaults() {
            return owner.healthFaults();
        }

        @Override
        public void addHealthFault(HealthFault fault) {
            owner.addHealthFault(fault);
        }

        @Override
        public boolean removeHealthFault(String id) {
            return owner.removeHealthFault(id);
        }

        @Override
        public void close() {
            // the connection belongs to the tool, which closes it after the provider
        }
    }
}
