package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** put, get, delete, list, count as separate processes on embedded and file stores: output, JSON and exit codes. */
class EntityCommandsProcessTest {

    @TempDir
    Path dir;

    CliProcess cli;

    @BeforeEach
    void start() {
        cli = new CliProcess(dir, Map.of("RS_PASS", "correct horse battery staple"));
    }

    @AfterEach
    void stop() throws InterruptedException {
        cli.close();
    }

    @Test
    void crudOnAnEncryptedEmbeddedStore() throws Exception {
        // a separate process: the passphrase from its environment, the store relative to its working directory
        CliProcess.Result put = cli.run("put", "--store", "embedded:./data", "--passphrase-env", "RS_PASS", "--type", "Customer",
                "--id", "CUST-001", "{\"name\":\"Acme\",\"tier\":\"Premium\",\"n\":1.50}");
        assertThat(put.exitCode()).as(put.toString()).isZero();
        assertThat(put.out()).isEqualTo("saved Customer/CUST-001 version 1" + System.lineSeparator());
        assertThat(put.err()).isEmpty();

        // the rest in this JVM (what each command does is the same in both): the same key from a file, the store's absolute path
        String[] store = {"--store", "embedded:" + dir.resolve("data"), "--passphrase-file", passphraseFile().toString()};

        Files.writeString(dir.resolve("c2.json"), "{\"name\":\"Globex\",\"tags\":[\"a\",\"b\"]}");
        CliProcess.Result put2 = CliProcess.inProcess(cat(new String[] {"put", "--type", "Customer", "--id", "CUST-002", "--file",
                dir.resolve("c2.json").toString(), "--json"}, store));
        assertThat(put2.exitCode()).as(put2.toString()).isZero();
        assertThat(Json.MAPPER.readTree(put2.out())).isEqualTo(Json.MAPPER.readTree("{\"type\":\"Customer\",\"id\":\"CUST-002\",\"version\":1}"));

        CliProcess.Result update = CliProcess.inProcess(cat(new String[] {"put", "--type", "Customer", "--id", "CUST-001", "--expect-version", "1",
                "{\"name\":\"Acme\",\"tier\":\"Enterprise\"}"}, store));
        assertThat(update.out()).contains("saved Customer/CUST-001 version 2");

        CliProcess.Result stale = CliProcess.inProcess(cat(new String[] {"put", "--type", "Customer", "--id", "CUST-001", "--expect-version", "1",
                "{\"name\":\"stale\"}"}, store));
        assertThat(stale.exitCode()).as(stale.toString()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(stale.err()).startsWith("error: version conflict on Customer/CUST-001").hasLineCount(1);

        CliProcess.Result get = CliProcess.inProcess(cat(new String[] {"get", "--type", "Customer", "--id", "CUST-001", "--json"}, store));
        assertThat(get.exitCode()).as(get.toString()).isZero();
        JsonNode got = Json.MAPPER.readTree(get.out());
        assertThat(got.get("version").asLong()).isEqualTo(2);
        assertThat(got.get("value").get("tier").asText()).isEqualTo("Enterprise");

        CliProcess.Result human = CliProcess.inProcess(cat(new String[] {"get", "--type", "Customer", "--id", "CUST-002"}, store));
        assertThat(human.out()).startsWith("Customer/CUST-002 version 1").contains("\"Globex\"");

        CliProcess.Result list = CliProcess.inProcess(cat(new String[] {"list", "--type", "Customer"}, store));
        assertThat(list.out().lines()).hasSize(2);
        assertThat(list.out().lines().findFirst().orElseThrow()).startsWith("CUST-001\t2\t{");
        CliProcess.Result listJson = CliProcess.inProcess(cat(new String[] {"list", "--type", "Customer", "--ids-only", "--json"}, store));
        assertThat(Json.MAPPER.readTree(listJson.out())).isEqualTo(Json.MAPPER.readTree("[\"CUST-001\",\"CUST-002\"]"));

        CliProcess.inProcess(cat(new String[] {"put", "--type", "Order", "--id", "O-1", "{\"total\":12}"}, store));
        CliProcess.Result count = CliProcess.inProcess(cat(new String[] {"count", "--json"}, store));
        assertThat(Json.MAPPER.readTree(count.out())).isEqualTo(Json.MAPPER.readTree("{\"Customer\":2,\"Order\":1}"));
        assertThat(CliProcess.inProcess("count", "--store", "embedded:" + dir.resolve("data")).out()).contains("Customer\t2").contains("total\t3");

        CliProcess.Result duplicate = CliProcess.inProcess("put", "--type", "Customer", "--id", "CUST-007", "{\"a\":1,\"a\":2}",
                "--store", "embedded:" + dir.resolve("data"));
        assertThat(duplicate.exitCode()).as(duplicate.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(duplicate.err()).contains("malformed JSON for Customer/CUST-007").contains("Duplicate field").hasLineCount(1);
        for (String command : new String[] {"put", "delete"}) {
            CliProcess.Result negative = CliProcess.inProcess(cat(command.equals("put")
                    ? new String[] {"put", "--type", "Customer", "--id", "CUST-001", "--expect-version", "-5", "{\"name\":\"x\"}"}
                    : new String[] {"delete", "--type", "Customer", "--id", "CUST-001", "--expect-version", "-5"},
                    "--store", "embedded:" + dir.resolve("data")));
            assertThat(negative.exitCode()).as(negative.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(negative.err()).contains("--expect-version must be 0 or more, got -5").hasLineCount(1);
        }
        CliProcess.Result wrongVersion = CliProcess.inProcess(cat(new String[] {"delete", "--type", "Customer", "--id", "CUST-001",
                "--expect-version", "1"}, store));
        assertThat(wrongVersion.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        CliProcess.Result delete = CliProcess.inProcess(cat(new String[] {"delete", "--type", "Customer", "--id", "CUST-001"}, store));
        assertThat(delete.exitCode()).as(delete.toString()).isZero();
        assertThat(delete.out()).contains("deleted Customer/CUST-001");
        CliProcess.Result missing = CliProcess.inProcess(cat(new String[] {"get", "--type", "Customer", "--id", "CUST-001"}, store));
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(missing.err()).startsWith("error: Customer/CUST-001 not found").hasLineCount(1);
        assertThat(missing.out()).isEmpty();
        CliProcess.Result deleteMissing = CliProcess.inProcess(cat(new String[] {"delete", "--type", "Customer", "--id", "CUST-001",
                "--expect-version", "2"}, store));
        assertThat(deleteMissing.exitCode()).as(deleteMissing.toString()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(deleteMissing.err()).startsWith("error: Customer/CUST-001 not found").hasLineCount(1);

        // the values are encrypted at rest: without a key option the type does not even open (a put would store a value in
        // clear), and the error is one line
        CliProcess.Result noKey = CliProcess.inProcess("get", "--store", "embedded:" + dir.resolve("data"), "--type", "Customer", "--id", "CUST-002");
        assertThat(noKey.exitCode()).as(noKey.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(noKey.err()).contains("is encrypted").hasLineCount(1);
        CliProcess.Result putInClear = CliProcess.inProcess("put", "--store", "embedded:" + dir.resolve("data"), "--type", "Customer",
                "--id", "CUST-009", "{\"name\":\"in clear\"}");
        assertThat(putInClear.exitCode()).as(putInClear.toString()).isEqualTo(ExitCodes.USAGE);
        CliProcess.Result wrongKey = cli.runWith(Map.of("OTHER", "not the passphrase"), "get", "--store", "embedded:./data",
                "--passphrase-env", "OTHER", "--type", "Customer", "--id", "CUST-002");
        assertThat(wrongKey.exitCode()).as(wrongKey.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(wrongKey.err()).startsWith("error: ").hasLineCount(1).doesNotContain("not the passphrase");
        // and nothing in the store's files shows the plaintext
        try (var files = Files.walk(dir.resolve("data"))) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                assertThat(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("Globex");
            }
        }
    }

    @Test
    void fileStoresWorkToo() throws Exception {
        // a separate process: a file store relative to its working directory
        CliProcess.Result put = cli.run("put", "--store", "file:./files", "--type", "Customer", "--id", "Big-Co", "{\"name\":\"Big\"}");
        assertThat(put.exitCode()).as(put.toString()).isZero();
        String[] abs = {"--store", "file:" + dir.resolve("files")};
        CliProcess.Result get = CliProcess.inProcess(cat(new String[] {"get", "--type", "Customer", "--id", "Big-Co", "--json"}, abs));
        assertThat(Json.MAPPER.readTree(get.out()).get("value")).isEqualTo(Json.MAPPER.readTree("{\"name\":\"Big\"}"));
        assertThat(CliProcess.inProcess(cat(new String[] {"list"}, abs)).out()).isEqualTo("Customer" + System.lineSeparator());
        assertThat(CliProcess.inProcess(cat(new String[] {"count", "--type", "Customer", "--json"}, abs)).out()).contains("{\"Customer\":1}");
        CliProcess.Result status = CliProcess.inProcess(cat(new String[] {"status", "--json"}, abs));
        assertThat(Json.MAPPER.readTree(status.out()).get("types")).isEqualTo(Json.MAPPER.readTree("{\"Customer\":1}"));
        CliProcess.Result watch = CliProcess.inProcess(cat(new String[] {"watch"}, abs));
        assertThat(watch.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(watch.err()).contains("watch needs a cluster-registry store").hasLineCount(1);
    }

    @Test
    void badInputIsOneLineNonZeroAndChangesNothing() throws Exception {
        String[] abs = {"--store", "embedded:" + dir.resolve("data")};
        assertThat(CliProcess.inProcess(cat(new String[] {"put", "--type", "Customer", "--id", "C1", "{\"v\":1}"}, abs)).exitCode()).isZero();

        // a separate process: the status a script sees, and nothing else on its standard error (library logging goes there too);
        // the other refusals in this JVM
        CliProcess.Result malformed = cli.run("put", "--store", "embedded:./data", "--type", "Customer", "--id", "C1", "{\"v\":2");
        assertThat(malformed.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(malformed.err()).startsWith("error: malformed JSON for Customer/C1 at line 1, column").hasLineCount(1);

        CliProcess.Result scheme = CliProcess.inProcess("put", "--store", "mongodb://x/y", "--type", "Customer", "--id", "C1", "{}");
        assertThat(scheme.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(scheme.err()).isEqualTo("error: unknown store scheme \"mongodb\" in \"mongodb://x/y\"; use embedded:<dir>, "
                + "zookeeper://host:port[,host:port…]/<chroot>, clusapi://<cluster> or file:<dir>" + System.lineSeparator());

        // a mistyped scheme or shape must not put a credential from the query on stderr
        for (String mistyped : new String[] {"zookeper://zk1:2181/app?digest=user:hunter2", "zookeeper:/zk1/app?digest=user:hunter2"}) {
            CliProcess.Result secret = CliProcess.inProcess("put", "--store", mistyped, "--type", "Customer", "--id", "C1", "{}");
            assertThat(secret.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(secret.err()).contains("digest=***").doesNotContain("hunter2");
        }

        CliProcess.Result badId = CliProcess.inProcess(cat(new String[] {"put", "--type", "Customer", "--id", "a/b", "{}"}, abs));
        assertThat(badId.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badId.err()).contains("a/b").hasLineCount(1);

        // an entity is a JSON object: anything else is bad input, refused before the store is touched
        for (String notAnObject : new String[] {"[1,2,3]", "\"text\"", "42", "true"}) {
            CliProcess.Result refused = CliProcess.inProcess(cat(new String[] {"put", "--type", "Customer", "--id", "C2", notAnObject}, abs));
            assertThat(refused.exitCode()).as(notAnObject + ": " + refused).isEqualTo(ExitCodes.USAGE);
            assertThat(refused.err()).startsWith("error: the entity for Customer/C2 must be a JSON object").hasLineCount(1);
        }
        // too large for the store is bad input too (exit 2), with the size and the limit (64 KiB by default)
        byte[] noise = new byte[90_000]; // incompressible, so zstd cannot bring it under the limit
        new java.util.Random(42).nextBytes(noise);
        Files.writeString(dir.resolve("big.json"), "{\"blob\":\"" + java.util.Base64.getEncoder().encodeToString(noise) + "\"}");
        CliProcess.Result tooLarge = CliProcess.inProcess(cat(new String[] {"put", "--type", "Customer", "--id", "C2", "--file",
                dir.resolve("big.json").toString()}, abs));
        assertThat(tooLarge.exitCode()).as(tooLarge.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(tooLarge.err()).startsWith("error: ").containsPattern("Customer/C2 is \\d+ bytes once encoded; the limit is 65536 bytes").hasLineCount(1);
        // positive control: the same put with an object of a modest size is saved
        CliProcess.Result fits = CliProcess.inProcess(cat(new String[] {"put", "--type", "Probe", "--id", "C3", "{\"blob\":\"x\"}"}, abs));
        assertThat(fits.exitCode()).as(fits.toString()).isZero();
        assertThat(CliProcess.inProcess(cat(new String[] {"list", "--type", "Probe", "--ids-only"}, abs)).out()).isEqualTo("C3" + System.lineSeparator());

        CliProcess.Result unknownOption = CliProcess.inProcess(cat(new String[] {"get", "--type", "Customer", "--id", "C1", "--colour"}, abs));
        assertThat(unknownOption.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknownOption.err()).contains("--colour").hasLineCount(1);

        CliProcess.Result missingEnv = CliProcess.inProcess(cat(new String[] {"get", "--type", "Customer", "--id", "C1", "--passphrase-env", "NOPE_NOT_SET"}, abs));
        assertThat(missingEnv.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(missingEnv.err()).contains("NOPE_NOT_SET").hasLineCount(1);

        // a key store's password, type or alias without the key store is a forgotten --key-store, not "no encryption"
        for (String[] half : new String[][] {{"--key-store-password-env", "PATH"}, {"--key-store-type", "PKCS12"}, {"--key-alias", "current"}}) {
            CliProcess.Result noKeyStore = CliProcess.inProcess(cat(new String[] {"put", "--type", "Customer", "--id", "C9", "{}"},
                    cat(half, abs)));
            assertThat(noKeyStore.exitCode()).as(noKeyStore.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(noKeyStore.err()).contains(half[0]).contains("--key-store FILE").hasLineCount(1);
        }

        CliProcess.Result noStore = CliProcess.inProcess("get", "--store", "embedded:" + dir.resolve("nowhere"), "--type", "Customer", "--id", "C1");
        assertThat(noStore.exitCode()).isEqualTo(ExitCodes.FAILED);
        assertThat(noStore.err()).contains("does not exist").hasLineCount(1);
        assertThat(dir.resolve("nowhere")).doesNotExist();

        // nothing changed: still version 1 with the first value, and no other entity
        CliProcess.Result list = CliProcess.inProcess(cat(new String[] {"list", "--type", "Customer", "--json"}, abs));
        assertThat(Json.MAPPER.readTree(list.out())).isEqualTo(Json.MAPPER.readTree("[{\"id\":\"C1\",\"version\":1,\"value\":{\"v\":1}}]"));
    }

    /** Decimals keep their scale and magnitude from put to get (the CLI and the stores share one codec). */
    @Test
    void decimalsAreShownAsTheyWereSaved() {
        String store = "file:" + dir.resolve("exact");
        CliProcess.Result put = CliProcess.inProcess("put", "--store", store, "--type", "Price", "--id", "P1",
                "{\"amount\":12.30,\"huge\":1E+400,\"digits\":0.1234567890123456789}");
        assertThat(put.exitCode()).as(put.toString()).isZero();
        CliProcess.Result get = CliProcess.inProcess("get", "--store", store, "--type", "Price", "--id", "P1", "--json");
        assertThat(get.exitCode()).as(get.toString()).isZero();
        assertThat(get.out()).contains("12.30").contains("1E+400").contains("0.1234567890123456789");
    }

    private java.nio.file.Path passphraseFile() throws java.io.IOException {
        Path f = dir.resolve("passphrase.txt");
        if (!Files.exists(f)) {
            Files.writeString(f, "correct horse battery staple\n");
        }
        return f;
    }

    static String[] cat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
