package dev.reliablestore.tx.samples;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.TransactionOutcomeUnknownException;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.api.TransactionTimedOutException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.tx.RecoveryResult;
import dev.reliablestore.tx.RetryPolicy;
import dev.reliablestore.tx.Transaction;
import dev.reliablestore.tx.TransactionFactory;
import dev.reliablestore.tx.TransactionStatus;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * The local-transaction samples of docs/transactions.md, in a package of their own so that they use
 * public API only; TransactionSamplesTest runs each and checks the page holds it verbatim (the text
 * between a sample's markers, de-indented).
 */
public final class TransactionSamples {

    public record Account(String owner, long balance) {
        public Account withdraw(long amount) {
            return new Account(owner, balance - amount);
        }

        public Account deposit(long amount) {
            return new Account(owner, balance + amount);
        }
    }

    public record Order(String customer, long amount) {
    }

    public record AuditEntry(String text, boolean joined) {
    }

    private TransactionSamples() {
    }

    /** Once per process: the factory, then recovery of what a crash left in doubt. */
    public static TransactionFactory start(Path txLogDir, StoreFactory shop, StoreFactory bank) {
        // sample-start setup
        TransactionFactory transactions = TransactionFactory.builder()
                .nodeName("app-1")                       // unique per coordinator process sharing the resources
                .logDirectory(txLogDir)                  // the coordinator log: keep it across restarts
                .defaultTimeout(Duration.ofSeconds(30))  // for begin() and execute(); default 60 s
                .build();
        RecoveryResult recovered = transactions.recover(List.of(   // at start-up, with every resource it coordinates
                TransactionalResource.from(shop), TransactionalResource.from(bank)));
        if (!recovered.isClean()) {
            System.err.println("call recover() again later: " + recovered); // a resource was unreachable
        }
        // sample-end setup
        return transactions;
    }

    /** A transfer with its own timeout, and what to catch. */
    public static String transfer(TransactionFactory transactions, StoreFactory shop, StoreFactory bank) {
        // sample-start begin
        TransactionalResource shopTx = TransactionalResource.from(shop);  // the factory's transactional side
        TransactionalResource bankTx = TransactionalResource.from(bank);
        try (Transaction tx = transactions.begin(Duration.ofSeconds(5))) { // its own timeout: 1 ms .. 24 h
            EntityStore<Account> accounts = tx.enlist(bankTx).store(Account.class);
            EntityStore<Order> orders = tx.enlist(shopTx).store(Order.class);
            Versioned<Account> alice = accounts.get("alice").orElseThrow(); // committed data + this transaction's writes
            accounts.save("alice", alice.value().withdraw(40), alice.version());
            orders.save("order-1", new Order("alice", 40));
            tx.commit();                                   // two writers: two-phase, the decision logged in between
            return "committed " + tx.id();
        } catch (TransactionTimedOutException e) {         // the timeout passed first; nothing was applied
            return "timed out: " + e.getMessage();
        } catch (TransactionRolledBackException e) {       // a "no" vote (the cause says why), or rollback-only
            return "rolled back: " + e.getMessage();
        } catch (TransactionOutcomeUnknownException e) {   // a one-phase commit failed without knowing if it applied
            return "outcome unknown: " + e.getMessage();
        }                                                  // leaving without commit() rolls back (close())
        // sample-end begin
    }

    /** A savepoint undoing part of the work. */
    public static void savepoints(TransactionFactory transactions, StoreFactory shop, boolean giftsSoldOut) {
        // sample-start savepoints
        try (Transaction tx = transactions.begin()) {
            EntityStore<Order> orders = tx.enlist(TransactionalResource.from(shop)).store(Order.class);
            orders.save("order-2", new Order("bob", 10));
            tx.savepoint("before-gift");
            orders.save("gift-2", new Order("bob", 0));
            if (giftsSoldOut) {
                tx.rollbackToSavepoint("before-gift");     // undoes gift-2 in every enlisted resource; order-2 stays
            }
            tx.commit();
        }
        // sample-end savepoints
    }

    /** A completion callback, run once the outcome is known. */
    public static void callbacks(TransactionFactory transactions, StoreFactory shop, List<String> outbox) {
        // sample-start callbacks
        try (Transaction tx = transactions.begin()) {
            tx.onCompletion(status -> {                    // once, with COMMITTED, ROLLED_BACK, TIMED_OUT or FAILED
                if (status == TransactionStatus.COMMITTED) {
                    outbox.add("order-3 placed");          // e.g. publish only what was committed
                }
            });
            tx.enlist(TransactionalResource.from(shop)).store(Order.class).save("order-3", new Order("carol", 5));
            tx.commit();                                   // the callback runs here, after the commit
        }
        // sample-end callbacks
    }

    /** execute: a transaction around a lambda, retried on conflicts, joined by nested work. */
    public static long deposit(TransactionFactory transactions, StoreFactory shop, StoreFactory bank) {
        // sample-start execute
        RetryPolicy retry = RetryPolicy.builder().retryConflicts(true).maxAttempts(5).build();
        long balance = transactions.execute(retry, tx -> { // a new transaction per attempt, committed on return
            EntityStore<Account> accounts = tx.enlist(TransactionalResource.from(bank)).store(Account.class);
            Versioned<Account> bob = accounts.get("bob").orElseThrow();
            accounts.save("bob", bob.value().deposit(5), bob.version()); // a conflict at commit re-runs the lambda
            audit(transactions, shop, "bob +5");           // joins this transaction (see below)
            return bob.value().balance() + 5;
        });                                                // the work threw: rolled back, the same exception rethrown
        // sample-end execute
        return balance;
    }

    // sample-start ambient
    /** Writes an audit entry in the caller's transaction if it runs inside execute, else in its own. */
    static void audit(TransactionFactory transactions, StoreFactory shop, String text) {
        boolean joining = transactions.current().isPresent(); // the transaction execute bound to this thread
        transactions.execute(tx -> {                       // joining: nothing is committed here, and a failure
            EntityStore<AuditEntry> entries =              // marks the caller's transaction rollback-only
                    tx.enlist(TransactionalResource.from(shop)).store(AuditEntry.class);
            entries.save(UUID.randomUUID().toString(), new AuditEntry(text, joining));
            return null;
        });
    }
    // sample-end ambient
}
