package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * What a store observes through reads other than get and exists — getAll, count, a transaction's
 * version check, a clear — is never followed by an older cache hit; and a clear's own bookkeeping
 * of the cache never fails a clear that took effect. Two factories on one embedded registry (as in
 * {@link CacheInvalidationTest}); the cached one's change feed is held, so that its cache has not
 * yet heard of the other's writes when it reads.
 */
class CacheObservationsTest {

    @TempDir
    Path dir;

    private static ClusterPersistenceConfiguration cached(Path dir) {
        return EmbeddedFixture.config(dir).enableLocalCache(true).cacheTTL(Duration.ofHours(1)).build();
    }

    /** The cached factory's store read "k" (version 1, cached); the other factory deleted it, unseen by the held feed. */
    private void deletedUnseen(EntityStore<Customer> reader, EntityStore<Customer> writer, HeldFeed feed) {
        writer.save("k", Customer.of("k", 1));
        writer.save("j", Customer.of("j", 2));
        assertThat(reader.get("k")).isPresent();
        feed.hold();
        assertThat(writer.delete("k")).isTrue();
    }

    @Test
    void anEntityGetAllShowedDeletedIsNotReadBackFromTheCache() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            HeldFeed feed = new HeldFeed(registry);
            try (StoreFactory a = ClusterStoreFactory.onRegistry(cached(dir), feed.registry());
                 StoreFactory b = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                EntityStore<Customer> reader = a.store(Customer.class);
                deletedUnseen(reader, b.store(Customer.class), feed);
                assertThat(reader.getAll()).extracting(Versioned::id).containsExactly("j");
                assertThat(reader.get("k")).isEmpty();
                assertThat(reader.exists("k")).isFalse();
                assertThat(reader.getMany(List.of("k", "j"))).containsOnlyKeys("j");
                feed.release();
                assertThat(reader.get("k")).isEmpty();
            }
        }
    }

    @Test
    void anEntityCountShowedDeletedIsNotReadBackFromTheCache() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            HeldFeed feed = new HeldFeed(registry);
            try (StoreFactory a = ClusterStoreFactory.onRegistry(cached(dir), feed.registry());
                 StoreFactory b = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                EntityStore<Customer> reader = a.store(Customer.class);
                deletedUnseen(reader, b.store(Customer.class), feed);
                assertThat(reader.count()).isEqualTo(1);
                assertThat(reader.exists("k")).isFalse();
                assertThat(reader.get("k")).isEmpty();
                feed.release();
            }
        }
    }

    @Test
    void aVersionACountFoundNewerIsNotReadOlderFromTheCache() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            HeldFeed feed = new HeldFeed(registry);
            try (StoreFactory a = ClusterStoreFactory.onRegistry(cached(dir), feed.registry());
                 StoreFactory b = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                EntityStore<Customer> reader = a.store(Customer.class);
                EntityStore<Customer> writer = b.store(Customer.class);
                writer.save("k", Customer.of("k", 1));
                assertThat(reader.get("k").orElseThrow().version()).isEqualTo(1);
                feed.hold();
                writer.save("k", Customer.of("k", 2));
                assertThat(reader.count()).isEqualTo(1);
                // a count shows no version, but the fence it leaves sends the next read to the registry
                assertThat(reader.get("k").orElseThrow().version()).isEqualTo(2);
                feed.release();
            }
        }
    }

    @Test
    void aTransactionsConflictIsNotFollowedByAnOlderHit() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            HeldFeed feed = new HeldFeed(registry);
            try (ClusterStoreFactory a = ClusterStoreFactory.onRegistry(cached(dir), feed.registry());
                 StoreFactory b = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                EntityStore<Customer> reader = a.store(Customer.class);
                EntityStore<Customer> writer = b.store(Customer.class);
                writer.save("k", Customer.of("k", 1));
                assertThat(reader.get("k").orElseThrow().version()).isEqualTo(1);
                feed.hold();
                writer.save("k", Customer.of("k", 2));
                TransactionBranch branch = a.begin(TransactionId.of(1, "gtx-conflict", "b"));
                branch.store("Customer", Customer.class).save("k", Customer.of("k", 3), 1);
                // the branch rolls back with the conflict of its version check as the cause
                assertThat(catchThrowable(branch::commitOnePhase).getCause()).isInstanceOfSatisfying(ConcurrencyConflictException.class,
                        conflict -> assertThat(conflict.actualVersion()).isEqualTo(2));
                assertThat(reader.get("k").orElseThrow().version()).isEqualTo(2);
                feed.release();
            }
        }
    }

    /** At a site a transaction reads each entity's state (stamp, tombstone) instead of its version record alone. */
    @Test
    void aTransactionsConflictAtASiteIsNotFollowedByAnOlderHit() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            HeldFeed feed = new HeldFeed(registry);
            ClusterStoreFactory.Site paris = new ClusterStoreFactory.Site("paris", System::currentTimeMillis, Duration.ofSeconds(5));
            try (ClusterStoreFactory a = ClusterStoreFactory.onRegistryAtSite(cached(dir), feed.registry(), paris);
                 StoreFactory b = ClusterStoreFactory.onRegistryAtSite(EmbeddedFixture.config(dir).build(), registry, paris)) {
                EntityStore<Customer> reader = a.store(Customer.class);
                EntityStore<Customer> writer = b.store(Customer.class);
                writer.save("k", Customer.of("k", 1));
                assertThat(reader.get("k").orElseThrow().version()).isEqualTo(1);
                feed.hold();
                writer.save("k", Customer.of("k", 2));
                TransactionBranch branch = a.begin(TransactionId.of(1, "gtx-conflict-at-site", "b"));
                branch.store("Customer", Customer.class).save("k", Customer.of("k", 3), 1);
                assertThat(catchThrowable(branch::commitOnePhase).getCause()).isInstanceOfSatisfying(ConcurrencyConflictException.class,
                        conflict -> assertThat(conflict.actualVersion()).isEqualTo(2));
                assertThat(reader.get("k").orElseThrow().version()).isEqualTo(2);
                feed.release();
            }
        }
    }

    @Test
    void aClearThatTookEffectReturnsItsCountThoughTheRegistrysSequenceCannotBeRead() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            AtomicBoolean sequenceUnreadable = new AtomicBoolean();
            try (StoreFactory f = ClusterStoreFactory.onRegistry(cached(dir), unreadableSequence(registry, sequenceUnreadable))) {
                EntityStore<Customer> store = f.store(Customer.class);
                store.save("k", Customer.of("k", 1));
                store.save("j", Customer.of("j", 2));
                assertThat(store.get("k")).isPresent(); // cached
                sequenceUnreadable.set(true);
                assertThat(store.clear()).isEqualTo(2);
                assertThat(store.get("k")).isEmpty();
                assertThat(store.count()).isZero();
                assertThat(store.clear()).as("nothing left to clear").isZero();
            }
        }
    }

    @Test
    void aClearOfAnEmptyTypeReturnsZeroThoughTheRegistrysSequenceCannotBeRead() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            AtomicBoolean sequenceUnreadable = new AtomicBoolean();
            try (StoreFactory f = ClusterStoreFactory.onRegistry(cached(dir), unreadableSequence(registry, sequenceUnreadable))) {
                EntityStore<Customer> store = f.store(Customer.class);
                sequenceUnreadable.set(true);
                assertThat(store.clear()).isZero();
            }
        }
    }

    /**
     * A write whose answer was lost (applied, then the connection failed) fails with its outcome unknown, and the
     * caller is told to read to find out: that read must not be answered from the cache with the state before the
     * write. Here the store's own feed is held, so only the failure itself can tell the cache.
     */
    @Test
    void aWriteWhoseOutcomeIsUnknownIsNotAnsweredFromTheCacheWithTheStateBeforeIt() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            HeldFeed feed = new HeldFeed(registry);
            AtomicBoolean answersLost = new AtomicBoolean();
            ClusterPersistenceConfiguration config = EmbeddedFixture.config(dir).enableLocalCache(true).cacheTTL(Duration.ofHours(1))
                    .maxRetries(0).failoverTimeout(Duration.ofMillis(100)).build();
            try (StoreFactory f = ClusterStoreFactory.onRegistry(config, answersLost(feed.registry(), answersLost))) {
                EntityStore<Customer> store = f.store(Customer.class);
                store.save("c", Customer.of("c", 1));
                store.save("d", Customer.of("d", 1));
                store.save("e", Customer.of("e", 1));
                assertThat(store.getMany(List.of("c", "d", "e"))).hasSize(3); // cached
                feed.hold();
                answersLost.set(true);
                Throwable save = catchThrowable(() -> store.save("c", Customer.of("c", 2)));
                Throwable delete = catchThrowable(() -> store.delete("d"));
                Throwable batch = catchThrowable(() -> store.saveBatch(java.util.Map.of("e", Customer.of("e", 2))));
                answersLost.set(false);
                for (Throwable t : List.of(save, delete, batch)) {
                    assertThat(t).isInstanceOf(dev.reliablestore.api.PersistenceException.class);
                    assertThat(((dev.reliablestore.api.PersistenceException) t).outcomeUnknown()).as(t.toString()).isTrue();
                }
                assertThat(store.get("c").orElseThrow().version()).as("the save landed").isEqualTo(2);
                assertThat(store.get("d")).as("the delete landed").isEmpty();
                assertThat(store.exists("d")).isFalse();
                assertThat(store.get("e").orElseThrow().version()).as("the batch landed").isEqualTo(2);
                feed.release();
                assertThat(store.get("c").orElseThrow().version()).isEqualTo(2);
            }
        }
    }

    /** {@code registry}, whose commits apply and then fail as if their answer was lost while {@code lost} is set. */
    private static ClusterRegistry answersLost(ClusterRegistry registry, AtomicBoolean lost) {
        return (ClusterRegistry) Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(), new Class<?>[] {ClusterRegistry.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(registry, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("commit") && lost.get()) {
                        throw new RegistryUnavailableException("the answer was lost (test)", null, true);
                    }
                    return result;
                });
    }

    /** {@code registry}, whose currentSequence() fails while {@code unreadable} is set. */
    private static ClusterRegistry unreadableSequence(ClusterRegistry registry, AtomicBoolean unreadable) {
        return (ClusterRegistry) Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(), new Class<?>[] {ClusterRegistry.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("currentSequence") && unreadable.get()) {
                        throw new RegistryUnavailableException("no server answered (test)", null);
                    }
                    try {
                        return method.invoke(registry, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** A registry whose change feed is delivered, or held (queued, in order) until {@link #release()}. */
    static final class HeldFeed {

        private final ClusterRegistry proxy;
        private final List<Runnable> held = new ArrayList<>();
        private boolean holding;

        HeldFeed(ClusterRegistry registry) {
            this.proxy = (ClusterRegistry) Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(),
                    new Class<?>[] {ClusterRegistry.class}, (p, method, args) -> {
                        Object[] passed = args;
                        if (method.getName().equals("watch")) {
                            ChangeListener real = (ChangeListener) args[args.length - 1];
                            passed = args.clone();
                            passed[args.length - 1] = new ChangeListener() {
                                @Override
                                public void onBatch(ChangeBatch batch) {
                                    deliver(() -> real.onBatch(batch));
                                }

                                @Override
                                public void onResync(String reason) {
                                    deliver(() -> real.onResync(reason));
                                }
                            };
                        }
                        try {
                            return method.invoke(registry, passed);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }

        ClusterRegistry registry() {
            return proxy;
        }

        /** Batches committed from now on reach the listeners only at {@link #release()}. */
        void hold() {
            synchronized (this) {
                holding = true;
            }
        }

        /** Delivers what was held, then lets the feed through again. */
        synchronized void release() {
            held.forEach(Runnable::run);
            held.clear();
            holding = false;
        }

        // under the lock: a batch the dispatcher delivers waits for the held ones before it
        private synchronized void deliver(Runnable delivery) {
            if (holding) {
                held.add(delivery);
            } else {
                delivery.run();
            }
        }
    }
}
