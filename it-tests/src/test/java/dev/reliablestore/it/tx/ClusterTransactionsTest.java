package dev.reliablestore.it.tx;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.Vote;
import dev.reliablestore.tx.EnlistedResource;
import dev.reliablestore.tx.RetryPolicy;
import dev.reliablestore.tx.Transaction;
import dev.reliablestore.tx.TransactionFactory;
import dev.reliablestore.tx.TransactionStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cluster-registry participant under the local coordinator, on real embedded registries. */
class ClusterTransactionsTest {

    @TempDir
    Path dir;

    StoreFactory shop;
    StoreFactory bank;
    TransactionFactory transactions;

    @BeforeEach
    void open() {
        shop = TxFixtures.registry(dir.resolve("shop"));
        bank = TxFixtures.registry(dir.resolve("bank"));
        transactions = TransactionFactory.builder().nodeName("it-node").logDirectory(dir.resolve("txlog")).build();
    }

    @AfterEach
    void close() {
        transactions.close();
        shop.close();
        bank.close();
    }

    private TransactionalResource tx(StoreFactory f) {
        return TxFixtures.resource(f);
    }

    @Test
    void savesAndDeletesAcrossEntityTypesCommitAtomically() {
        EntityStore<Order> orders = shop.store(Order.class);
        orders.save("old", new Order("zed", "pear", 1));
        try (Transaction t = transactions.begin()) {
            EnlistedResource s = t.enlist(tx(shop));
            s.store(Account.class).save("cust1", new Account("ann", 10));
            s.store(Account.class).save("cust2", new Account("bob", 20));
            s.store(Order.class).save("order1", new Order("ann", "apple", 2));
            assertThat(s.store(Order.class).delete("old")).isTrue();
            assertThat(s.store(Order.class).getAll()).extracting(Versioned::id).containsExactly("order1");
            assertThat(orders.exists("old")).as("others still see the committed state").isTrue();
            t.commit();
        }
        assertThat(shop.store(Account.class).getAll()).extracting(v -> v.value().owner()).containsExactly("ann", "bob");
        assertThat(orders.getAll()).extracting(Versioned::id).containsExactly("order1");
        assertThat(orders.get("order1")).map(Versioned::version).contains(1L);
        assertThat(tx(shop).recover()).as("one participant: one batch, no record").isEmpty();
    }

    @Test
    void rollbackLeavesNothing() {
        Transaction t = transactions.begin();
        t.enlist(tx(shop)).store(Order.class).save("o1", new Order("ann", "apple", 1));
        t.enlist(tx(bank)).store(Account.class).save("a1", new Account("ann", 5));
        t.rollback();
        assertThat(shop.store(Order.class).count()).isZero();
        assertThat(bank.store(Account.class).count()).isZero();
        assertThat(tx(shop).recover()).isEmpty();
    }

    @Test
    void aVersionConflictAtCommitFailsTheWholeTransactionAndWritesNothing() {
        EntityStore<Account> accounts = bank.store(Account.class);
        accounts.save("a1", new Account("ann", 100));
        Transaction t = transactions.begin();
        EntityStore<Account> inTx = t.enlist(tx(bank)).store(Account.class);
        Versioned<Account> seen = inTx.get("a1").orElseThrow();
        inTx.save("a1", seen.value().plus(-30), seen.version());
        t.enlist(tx(shop)).store(Order.class).save("o1", new Order("ann", "apple", 1));
        accounts.save("a1", new Account("ann", 999)); // a concurrent writer wins
        assertThatThrownBy(t::commit).isInstanceOf(TransactionRolledBackException.class)
                .hasRootCauseInstanceOf(ConcurrencyConflictException.class);
        assertThat(accounts.get("a1")).map(v -> v.value().balance()).contains(999L);
        assertThat(shop.store(Order.class).count()).isZero();
        assertThat(tx(shop).recover()).isEmpty();
        assertThat(tx(bank).recover()).isEmpty();
        shop.store(Order.class).save("o1", new Order("x", "y", 1)); // no lock was left behind
    }

    @Test
    void aPreparedBranchLocksItsEntitiesUntilTheDecision() {
        EntityStore<Account> accounts = bank.store(Account.class);
        accounts.save("a1", new Account("ann", 100));
        TransactionId id = TransactionId.of(7, "global-1", "b1");
        TransactionBranch branch = tx(bank).begin(id);
        branch.store(Account.class).save("a1", new Account("ann", 50), 1);
        branch.store(Account.class).save("a2", new Account("bob", 50));
        assertThat(branch.prepare()).isEqualTo(Vote.COMMIT);

        assertThat(tx(bank).recover()).containsExactly(id);
        assertThat(accounts.get("a1")).as("readers see the last committed value").map(v -> v.value().balance()).contains(100L);
        assertThat(accounts.exists("a2")).isFalse();
        assertThatThrownBy(() -> accounts.save("a1", new Account("eve", 0))).isInstanceOf(ConcurrencyConflictException.class)
                .hasMessageContaining("locked by prepared transaction TX-" + id.toToken());
        assertThatThrownBy(() -> accounts.save("a2", new Account("eve", 0), 0)).isInstanceOf(ConcurrencyConflictException.class)
                .hasMessageContaining("locked by prepared transaction");
        assertThatThrownBy(() -> accounts.delete("a1")).isInstanceOf(ConcurrencyConflictException.class)
                .hasMessageContaining("locked");
        Transaction other = transactions.begin();
        other.enlist(tx(bank)).store(Account.class).save("a1", new Account("eve", 1));
        assertThatThrownBy(other::commit).isInstanceOf(TransactionRolledBackException.class).hasMessageContaining("locked");

        branch.commit();
        assertThat(tx(bank).recover()).isEmpty();
        assertThat(accounts.get("a1")).map(Versioned::version).contains(2L);
        assertThat(accounts.get("a1")).map(v -> v.value().balance()).contains(50L);
        assertThat(accounts.get("a2")).map(Versioned::version).contains(1L);
        accounts.save("a1", new Account("ann", 51), 2); // unlocked again
    }

    @Test
    void anAbandonedPreparedBranchIsReportedByRecoverAndFinishedOnlyByADecision() {
        bank.store(Account.class).save("a1", new Account("ann", 100));
        TransactionId id = TransactionId.of(7, "abandoned", "b1");
        TransactionBranch branch = tx(bank).begin(id);
        branch.store(Account.class).save("a1", new Account("ann", 0), 1);
        branch.prepare();
        bank.close(); // the process that prepared it is gone

        try (StoreFactory reopened = TxFixtures.registry(dir.resolve("bank"))) {
            TransactionalResource r = TxFixtures.resource(reopened);
            assertThat(r.recover()).containsExactly(id);
            assertThatThrownBy(() -> r.begin(id)).hasMessageContaining("already exists");
            assertThatThrownBy(() -> reopened.store(Account.class).save("a1", new Account("x", 1))).hasMessageContaining("locked");
            r.rollbackPrepared(id);
            assertThat(r.recover()).isEmpty();
            assertThat(reopened.store(Account.class).get("a1")).map(v -> v.value().balance()).contains(100L);
            reopened.store(Account.class).save("a1", new Account("ann", 101), 1);
            assertThatThrownBy(() -> r.commitPrepared(id)).hasMessageContaining("no live or prepared transaction branch");
        }
        bank = TxFixtures.registry(dir.resolve("bank"));
    }

    @Test
    void twoTransactionsOnTheSameEntityExactlyOneCommits() throws Exception {
        EntityStore<Account> accounts = bank.store(Account.class);
        accounts.save("a1", new Account("ann", 100));
        int contenders = 4;
        CyclicBarrier readAll = new CyclicBarrier(contenders);
        ExecutorService pool = Executors.newFixedThreadPool(contenders);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicInteger committed = new AtomicInteger();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < contenders; i++) {
                int amount = i + 1;
                futures.add(pool.submit(() -> {
                    Transaction t = transactions.begin();
                    try {
                        EntityStore<Account> view = t.enlist(tx(bank)).store(Account.class);
                        Versioned<Account> seen = view.get("a1").orElseThrow();
                        view.save("a1", seen.value().plus(amount), seen.version());
                        t.enlist(tx(shop)).store(Order.class).save("o" + amount, new Order("ann", "x", amount));
                        readAll.await(30, TimeUnit.SECONDS);
                        t.commit();
                        committed.incrementAndGet();
                    } catch (TransactionRolledBackException e) {
                        failures.add(e);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
        assertThat(committed.get()).isEqualTo(1);
        assertThat(failures).hasSize(contenders - 1)
                .allSatisfy(e -> assertThat(e).hasRootCauseInstanceOf(ConcurrencyConflictException.class));
        assertThat(accounts.get("a1")).map(Versioned::version).contains(2L);
        assertThat(shop.store(Order.class).count()).as("the loser's other writes were rolled back too").isEqualTo(1);
        assertThat(tx(bank).recover()).isEmpty();
        assertThat(tx(shop).recover()).isEmpty();
    }

    @Test
    void eightThreadsOfRandomTransfersKeepTheTotalBalance() throws Exception {
        int accountsPerBank = 4;
        long initial = 1_000;
        List<StoreFactory> banks = List.of(shop, bank); // two registries: transfers between them are two-phase
        for (StoreFactory b : banks) {
            for (int i = 0; i < accountsPerBank; i++) {
                b.store(Account.class).save("acc" + i, new Account("owner" + i, initial));
            }
        }
        long total = initial * accountsPerBank * banks.size();
        RetryPolicy retry = RetryPolicy.builder().maxAttempts(100).initialBackoff(Duration.ofMillis(1))
                .maxBackoff(Duration.ofMillis(20)).retryConflicts(true).build();
        int threads = 8;
        int transfersPerThread = 25;
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    for (int n = 0; n < transfersPerThread; n++) {
                        ThreadLocalRandom rnd = ThreadLocalRandom.current();
                        StoreFactory fromBank = banks.get(rnd.nextInt(2));
                        StoreFactory toBank = banks.get(rnd.nextInt(2));
                        String from = "acc" + rnd.nextInt(accountsPerBank);
                        String to = "acc" + rnd.nextInt(accountsPerBank);
                        if (fromBank == toBank && from.equals(to)) {
                            continue;
                        }
                        long amount = 1 + rnd.nextInt(50);
                        transactions.execute(retry, tx -> {
                            EnlistedResource a = tx.enlist(tx(fromBank));
                            EnlistedResource b = fromBank == toBank ? a : tx.enlist(tx(toBank));
                            EntityStore<Account> src = a.store(Account.class);
                            EntityStore<Account> dst = b.store(Account.class);
                            Versioned<Account> s = src.get(from).orElseThrow();
                            src.save(from, s.value().plus(-amount), s.version());
                            Versioned<Account> d = dst.get(to).orElseThrow();
                            dst.save(to, d.value().plus(amount), d.version());
                            return null;
                        });
                        done.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
        long sum = 0;
        for (StoreFactory b : banks) {
            for (Versioned<Account> a : b.store(Account.class).getAll()) {
                sum += a.value().balance();
            }
            assertThat(tx(b).recover()).isEmpty();
        }
        assertThat(done.get()).isGreaterThan(threads * transfersPerThread / 2);
        assertThat(sum).isEqualTo(total);
        assertThat(dir.resolve("txlog").toFile().list((d, name) -> name.endsWith(".commit"))).as("decisions left").isEmpty();
    }

    @Test
    void transactionStatusesAreVisibleThroughTheCommit() {
        Transaction t = transactions.begin();
        t.enlist(tx(shop)).store(Order.class).save("o", new Order("a", "b", 1));
        t.enlist(tx(bank)).store(Account.class).save("a", new Account("a", 1));
        t.commit();
        assertThat(t.status()).isEqualTo(TransactionStatus.COMMITTED);
        assertThat(shop.store(Order.class).exists("o")).isTrue();
        assertThat(bank.store(Account.class).exists("a")).isTrue();
    }
}
