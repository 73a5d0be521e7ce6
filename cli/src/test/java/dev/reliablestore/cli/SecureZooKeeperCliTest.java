package dev.reliablestore.cli;

import dev.reliablestore.registry.zookeeper.SecureZooKeeperServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --store zookeeper://…} with the backend's security options, against servers that demand
 * them: Kerberos options in the URI (a principal and a keytab path are not secrets), TLS store
 * passwords from {@code --registry-secret-file}; a secret's value on the command line is refused.
 * In this JVM ({@link InProcessCli}): the Kerberos client reads the KDC's krb5.conf from a JVM-wide
 * property that the test's KDC sets.
 */
class SecureZooKeeperCliTest {

    @TempDir
    static Path dir;
    private static SecureZooKeeperServers.Kerberos kerberos;
    private static SecureZooKeeperServers.Tls tls;

    @BeforeAll
    static void startServers() throws Exception {
        kerberos = SecureZooKeeperServers.Kerberos.start(dir.resolve("kerberos"));
        tls = SecureZooKeeperServers.Tls.start(dir.resolve("tls"));
    }

    @AfterAll
    static void stopServers() throws Exception {
        try {
            if (kerberos != null) {
                kerberos.close();
            }
        } finally {
            if (tls != null) {
                tls.close();
            }
        }
    }

    private static String query(Map<String, String> options) {
        return options.entrySet().stream().map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }

    private static void putThenGet(List<String> store) {
        List<String> put = new ArrayList<>(List.of("put", "--type", "Customer", "--id", "C-1", "{\"name\":\"Acme\"}"));
        put.addAll(store);
        InProcessCli.Run r = InProcessCli.run(put.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        List<String> get = new ArrayList<>(List.of("get", "--type", "Customer", "--id", "C-1"));
        get.addAll(store);
        r = InProcessCli.run(get.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Acme");
    }

    @Test
    void kerberosOptionsInTheStoreUri() throws Exception {
        String store = "zookeeper://" + kerberos.connectString() + "/cli-kerberos?" + query(kerberos.clientOptions("cli"));
        putThenGet(List.of("--store", store));
        InProcessCli.Run secure = InProcessCli.run("zk", "secure", "--store", store, "--dry-run");
        assertThat(secure.exitCode()).as(secure.toString()).isZero();
        assertThat(secure.out()).contains("sasl:cli@EXAMPLE.COM cdrwa");
    }

    @Test
    void tlsOptionsWithPasswordsFromSecretFiles() throws Exception {
        Map<String, String> options = new java.util.LinkedHashMap<>(tls.clientOptions("cli"));
        // the fixture gives file: references; the command line takes the files through --registry-secret-file
        Path keyStorePassword = Path.of(options.remove("tlsKeyStorePassword").substring("file:".length()));
        Path trustStorePassword = Path.of(options.remove("tlsTrustStorePassword").substring("file:".length()));
        String store = "zookeeper://" + tls.connectString() + "/cli-tls?" + query(options);
        putThenGet(List.of("--store", store, "--registry-secret-file", "tlsKeyStorePassword=" + keyStorePassword,
                "--registry-secret-file", "tlsTrustStorePassword=" + trustStorePassword));
    }

    @Test
    void aSecretOnTheCommandLineIsRefusedWithoutEchoingIt() throws Exception {
        String literal = "hunter2-" + Files.readString(Files.writeString(dir.resolve("n"), "x"));
        InProcessCli.Run inUri = InProcessCli.run("get", "--type", "Customer", "--id", "C-1", "--store",
                "zookeeper://" + tls.connectString() + "/cli-tls?tls=true&tlsKeyStorePassword=" + literal);
        assertThat(inUri.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(inUri.err()).contains("tlsKeyStorePassword is a secret").contains("--registry-secret-file tlsKeyStorePassword=FILE");
        InProcessCli.Run inOption = InProcessCli.run("get", "--type", "Customer", "--id", "C-1", "--store",
                "zookeeper://" + tls.connectString() + "/cli-tls", "--registry-option", "digest=app:" + literal);
        assertThat(inOption.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(inOption.err()).contains("digest is a secret").contains("--registry-secret-env digest=VAR");
        assertThat(inUri.err() + inUri.out() + inOption.err() + inOption.out()).doesNotContain(literal);
    }
}
