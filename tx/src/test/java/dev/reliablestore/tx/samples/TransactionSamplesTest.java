package dev.reliablestore.tx.samples;

import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.Vote;
import dev.reliablestore.tx.TransactionFactory;
import dev.reliablestore.tx.samples.TransactionSamples.Account;
import dev.reliablestore.tx.samples.TransactionSamples.AuditEntry;
import dev.reliablestore.tx.samples.TransactionSamples.Order;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the samples of docs/transactions.md and checks the page shows each of them unchanged. */
class TransactionSamplesTest {

    @TempDir
    Path dir;

    InMemoryParticipant shop;
    InMemoryParticipant bank;
    TransactionFactory transactions;

    @BeforeEach
    void setUp() {
        shop = new InMemoryParticipant("shop", Persistence.openFactory("memory", Map.of()), JacksonEntityCodec.defaults());
        bank = new InMemoryParticipant("bank", Persistence.openFactory("memory", Map.of()), JacksonEntityCodec.defaults());
        bank.store(Account.class).save("alice", new Account("alice", 100));
        bank.store(Account.class).save("bob", new Account("bob", 0));
        transactions = TransactionSamples.start(dir.resolve("tx-log"), shop, bank);
    }

    @AfterEach
    void tearDown() {
        transactions.close();
        shop.close();
        bank.close();
    }

    @Test
    void aTransferCommitsInTwoPhasesThroughTheSampleParticipant() {
        assertThat(TransactionSamples.transfer(transactions, shop, bank)).startsWith("committed app-1-");
        assertThat(bank.store(Account.class).get("alice")).map(v -> v.value().balance()).contains(60L);
        assertThat(shop.store(Order.class).get("order-1")).map(Versioned::value).contains(new Order("alice", 40));
        assertThat(shop.recover()).isEmpty();
        assertThat(dir.resolve("tx-log").toFile().list((d, name) -> name.endsWith(".commit"))).as("decisions left").isEmpty();
    }

    @Test
    void aConflictingTransferIsReportedAsRolledBackByTheParticipantsNoVote() {
        // another coordinator's transaction holds order-1, prepared
        TransactionId other = TransactionId.of(7, "another-coordinator", "1");
        TransactionBranch branch = shop.begin(other);
        branch.store(Order.class).save("order-1", new Order("someone else", 1));
        assertThat(branch.prepare()).isEqualTo(Vote.COMMIT);

        assertThat(TransactionSamples.transfer(transactions, shop, bank)).startsWith("rolled back: transaction app-1-")
                .contains("in-memory:shop voted no: version conflict on Order/order-1").contains("locked by another prepared transaction");
        assertThat(bank.store(Account.class).get("alice")).map(v -> v.value().balance()).contains(100L);
        assertThat(bank.recover()).as("the bank had prepared first; it was rolled back").isEmpty();
        assertThat(shop.recover()).containsExactly(other);

        shop.rollbackPrepared(other);
        assertThat(TransactionSamples.transfer(transactions, shop, bank)).startsWith("committed");
    }

    @Test
    void aSavepointUndoesTheLaterWorkOnly() {
        TransactionSamples.savepoints(transactions, shop, true);
        assertThat(shop.store(Order.class).exists("order-2")).isTrue();
        assertThat(shop.store(Order.class).exists("gift-2")).isFalse();
        TransactionSamples.savepoints(transactions, shop, false);
        assertThat(shop.store(Order.class).exists("gift-2")).isTrue();
    }

    @Test
    void theCallbackRunsAfterTheCommit() {
        List<String> outbox = new ArrayList<>();
        TransactionSamples.callbacks(transactions, shop, outbox);
        assertThat(outbox).containsExactly("order-3 placed");
        assertThat(shop.store(Order.class).exists("order-3")).isTrue();
    }

    @Test
    void executeCommitsTheDepositAndTheJoinedAuditEntryTogether() {
        assertThat(TransactionSamples.deposit(transactions, shop, bank)).isEqualTo(5);
        assertThat(bank.store(Account.class).get("bob")).map(v -> v.value().balance()).contains(5L);
        assertThat(shop.store(AuditEntry.class).getAll()).extracting(Versioned::value)
                .containsExactly(new AuditEntry("bob +5", true));

        TransactionSamples.audit(transactions, shop, "alone"); // no ambient transaction: its own, committed at once
        assertThat(shop.store(AuditEntry.class).getAll()).extracting(Versioned::value).contains(new AuditEntry("alone", false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"setup", "begin", "savepoints", "callbacks", "execute", "ambient"})
    void theDocShowsTheSample(String name) throws IOException {
        assertThat(doc()).contains(sample("TransactionSamples.java", name));
    }

    @Test
    void theDocShowsTheParticipant() throws IOException {
        assertThat(doc()).contains(sample("InMemoryParticipant.java", "participant"));
    }

    private static String doc() throws IOException {
        return Files.readString(Path.of("../docs/transactions.md"));
    }

    /** The lines between a sample's markers, de-indented to the level of its first line. */
    static String sample(String file, String name) throws IOException {
        String source = Files.readString(Path.of("src/test/java/dev/reliablestore/tx/samples", file));
        Matcher m = Pattern.compile("// sample-start " + name + "\\n(.*?)\\n\\s*// sample-end " + name, Pattern.DOTALL).matcher(source);
        assertThat(m.find()).as("markers of sample " + name + " in " + file).isTrue();
        String[] lines = m.group(1).split("\n");
        int indent = lines[0].length() - lines[0].stripLeading().length();
        StringBuilder out = new StringBuilder();
        for (String line : lines) {
            out.append(line.length() >= indent ? line.substring(indent) : line.strip()).append('\n');
        }
        return out.toString().stripTrailing();
    }
}
