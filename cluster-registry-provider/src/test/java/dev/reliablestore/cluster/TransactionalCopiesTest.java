package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A save in a transaction keeps the entity as it was at the call, as a save outside one stores it
 * then: the commit encodes later, and an object the caller changes after {@code save} (Spring
 * Data's repositories return the saved instance, and code strips a field before handing it on) or
 * after a read in the transaction must not become what is committed.
 */
class TransactionalCopiesTest {

    @TempDir
    Path dir;

    /** A mutable entity, as JPA-style entities are. */
    public static final class Account {
        private String owner;
        private List<String> tags = new ArrayList<>();

        public Account() {
        }

        Account(String owner, String... tags) {
            this.owner = owner;
            this.tags.addAll(List.of(tags));
        }

        public String getOwner() {
            return owner;
        }

        public void setOwner(String owner) {
            this.owner = owner;
        }

        public List<String> getTags() {
            return tags;
        }

        public void setTags(List<String> tags) {
            this.tags = tags;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Account a && Objects.equals(owner, a.owner) && Objects.equals(tags, a.tags);
        }

        @Override
        public int hashCode() {
            return Objects.hash(owner, tags);
        }

        @Override
        public String toString() {
            return "Account[" + owner + ", " + tags + "]";
        }
    }

    /** A bean whose setter refuses what its constructor accepts: written by the codec, not read back. */
    public static final class Reading {
        private int celsius;

        public Reading() {
        }

        Reading(int celsius) {
            this.celsius = celsius;
        }

        public int getCelsius() {
            return celsius;
        }

        public void setCelsius(int celsius) {
            if (celsius < -273) {
                throw new IllegalArgumentException("below absolute zero: " + celsius);
            }
            this.celsius = celsius;
        }
    }

    /** Nothing was stored, so the refusal is not a DataIntegrityException (corrupt stored data), and the transaction goes on. */
    @Test
    void anEntityTheCodecCannotReadBackIsRefusedAtSaveAsSuchAndTheTransactionGoesOn() {
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            TransactionBranch branch = TransactionalResource.from(f).begin(TransactionId.of(1, "g", "b"));
            EntityStore<Reading> view = branch.store(Reading.class);
            assertThatThrownBy(() -> view.save("r", new Reading(-300)))
                    .isExactlyInstanceOf(PersistenceException.class)
                    .hasMessageContainingAll("Reading entity", "not read back", "nothing was written");
            view.save("ok", new Reading(20));
            branch.commitOnePhase();
            assertThat(f.store(Reading.class).get("ok").orElseThrow().value().getCelsius()).isEqualTo(20);
            assertThat(f.store(Reading.class).exists("r")).isFalse();
        }
    }

    @ParameterizedTest(name = "two-phase: {0}")
    @ValueSource(booleans = {true, false})
    void changesToSavedAndReadObjectsAfterTheCallAreNotCommitted(boolean twoPhase) {
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            f.store(Account.class).save("batched", new Account("Bea", "gold"));
            TransactionBranch branch = TransactionalResource.from(f).begin(TransactionId.of(1, "g" + twoPhase, "b"));
            EntityStore<Account> view = branch.store(Account.class);

            Account saved = new Account("Ann", "gold");
            view.save("a", saved);
            saved.setOwner(null); // e.g. a field stripped before the object is handed to the web layer
            saved.getTags().add("after save");

            Account read = view.get("a").orElseThrow().value();
            read.getTags().clear();
            assertThat(view.get("a").orElseThrow().value()).as("read again in the transaction").isEqualTo(new Account("Ann", "gold"));

            Account batched = new Account("Bea", "platinum");
            view.saveBatch(Map.of("batched", batched));
            batched.getTags().add("after the batch");
            view.getAll().forEach(v -> v.value().getTags().add("changed by a reader of getAll"));

            if (twoPhase) {
                branch.prepare();
                branch.commit();
            } else {
                branch.commitOnePhase();
            }
            EntityStore<Account> accounts = f.store(Account.class);
            assertThat(accounts.get("a").orElseThrow().value()).isEqualTo(new Account("Ann", "gold"));
            assertThat(accounts.get("batched").orElseThrow().value()).isEqualTo(new Account("Bea", "platinum"));
        }
    }
}
