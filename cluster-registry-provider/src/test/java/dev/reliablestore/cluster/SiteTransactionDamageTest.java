package dev.reliablestore.cluster;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A one-phase commit at a site of a multi-site store reads its entities' states before it sends
 * anything; a state it cannot read there (damaged data) applied nothing, so the coordinator must
 * hear a rollback caused by a {@link DataIntegrityException}, not an outcome it cannot know
 * (the local coordinator would report {@code TransactionOutcomeUnknownException}, JTA a heuristic).
 */
class SiteTransactionDamageTest {

    static final RegistryPath CUSTOMERS = RegistryPath.parse(EmbeddedFixture.GROUP + "/" + EmbeddedFixture.KEY_PATH + "/Entities/Customer");

    @TempDir
    Path dir;
    private ClusterRegistry registry;
    private ClusterStoreFactory factory;
    private EntityStore<Customer> store;

    @BeforeEach
    void open() {
        registry = EmbeddedFixture.openRegistry(dir);
        factory = ClusterStoreFactory.onRegistryAtSite(EmbeddedFixture.config(dir).enableEncryption(true)
                .passphrases(List.of("a long passphrase".toCharArray())).build(), registry,
                new ClusterStoreFactory.Site("paris", () -> 1_700_000_000_000L, Duration.ofSeconds(5)));
        store = factory.store(Customer.class);
    }

    @AfterEach
    void close() {
        factory.close();
        registry.close();
    }

    @Test
    void aOnePhaseCommitThatCannotReadAnEntitysStateAtTheSiteRollsBackAsDamage() {
        store.save("c1", Customer.of("Ada", 1));
        TransactionBranch branch = factory.begin(TransactionId.of(1, "g", "damaged"));
        EntityStore<Customer> inTx = branch.store(Customer.class);
        inTx.save("c1", Customer.of("Ada", 2), 1);
        inTx.save("c2", Customer.of("Bob", 3));
        // damage after the transaction read c1: its version record stays, its value goes
        registry.commit(WriteBatch.builder().deleteValue(CUSTOMERS, "c1").build());

        assertThatThrownBy(branch::commitOnePhase).isInstanceOf(TransactionRolledBackException.class)
                .hasMessageContaining("nothing of it was applied").hasMessageContaining("Customer/c1")
                .cause().isInstanceOf(DataIntegrityException.class).hasMessageContaining("Customer/c1")
                .hasMessageContaining("site paris");
        assertThat(branch.state()).isEqualTo(TransactionBranch.State.ROLLED_BACK);
        assertThat(store.exists("c2")).as("nothing of it was written").isFalse();
        assertThat(factory.recover()).isEmpty();
        assertThat(store.save("c2", Customer.of("Bob", 4))).as("no lock is left").isEqualTo(1);
    }

    /** A version record of the wrong registry type is damage too: a rollback, not an unknown outcome. */
    @Test
    void aVersionRecordOfTheWrongTypeRollsBackAsDamage() {
        store.save("c1", Customer.of("Ada", 1));
        TransactionBranch branch = factory.begin(TransactionId.of(1, "g", "wrong-type"));
        branch.store(Customer.class).save("c1", Customer.of("Ada", 2), 1);
        registry.commit(WriteBatch.builder().setValue(CUSTOMERS.child(StorageLayout.VERSIONS), "c1",
                dev.reliablestore.registry.RegistryValue.sz("one")).build());
        assertThatThrownBy(branch::commitOnePhase).isInstanceOf(TransactionRolledBackException.class)
                .cause().isInstanceOf(DataIntegrityException.class);
        assertThat(branch.state()).isEqualTo(TransactionBranch.State.ROLLED_BACK);
    }
}
