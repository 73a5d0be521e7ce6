package dev.reliablestore.registry.zookeeper;

import javax.security.auth.Subject;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JAAS login sections of the registry's Kerberos identities. ZooKeeper's client reads its login
 * section from the JVM-wide JAAS {@link Configuration} (the name of the section is per client:
 * {@code zookeeper.sasl.clientconfig} in its ZKClientConfig). So, that nobody has to write a JAAS file,
 * a {@link Chaining} configuration is installed once — the one deliberate piece of JVM-wide state of
 * this backend — that answers the sections named here and delegates every other name to the
 * configuration that was installed before (a user's {@code java.security.auth.login.config} file, or
 * an application's own {@code Configuration}). A configuration installed <em>after</em> it replaces it;
 * the next open that needs a section installs it again on top.
 */
final class KerberosJaas {

    /** Section names start with this; no user section is expected to. */
    static final String SECTION_PREFIX = "ReliableStore-ZooKeeper-";

    private static final Map<String, AppConfigurationEntry[]> SECTIONS = new ConcurrentHashMap<>();

    private KerberosJaas() {
    }

    /**
     * The section that logs in {@code principal} from {@code keytab} (the same name for the same pair,
     * so reopening adds nothing), installed and answering.
     */
    static String section(String principal, String keytab) {
        String name = SECTION_PREFIX + hash(principal + "\0" + Path.of(keytab).toAbsolutePath());
        SECTIONS.computeIfAbsent(name, n -> new AppConfigurationEntry[] {new AppConfigurationEntry(
                "com.sun.security.auth.module.Krb5LoginModule", AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, Map.of(
                        "useKeyTab", "true",
                        "keyTab", Path.of(keytab).toAbsolutePath().toString(),
                        "principal", principal,
                        // keys in the Subject: the GSS layer gets new tickets from them when the old ones expire
                        "storeKey", "true",
                        "doNotPrompt", "true",
                        // only the keytab: a ticket cache of whoever runs the JVM must not become the registry's identity
                        "useTicketCache", "false",
                        "isInitiator", "true"))});
        install();
        return name;
    }

    /**
     * Logs in once with the section, so a wrong principal or keytab, an expired or unknown principal or
     * an unreachable KDC is refused at open with its cause (ZooKeeper's client would only log it and
     * connect unauthenticated).
     */
    static void checkLogin(String section, String principal, String keytab) {
        try {
            LoginContext login = new LoginContext(section, new Subject());
            login.login();
            login.logout();
        } catch (LoginException e) {
            StringBuilder causes = new StringBuilder(String.valueOf(e.getMessage()));
            for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
                causes.append(": ").append(t.getMessage());
            }
            throw new ZooKeeperAuthenticationException("Kerberos login of option kerberosPrincipal=" + principal + " with option kerberosKeytab="
                    + keytab + " failed: " + causes + " (is the principal in the keytab with its current key, not expired, and is the KDC of"
                    + " its realm reachable per krb5.conf?)", principal, e);
        }
    }

    private static synchronized void install() {
        Configuration current;
        try {
            current = Configuration.getConfiguration();
        } catch (SecurityException e) {
            // no readable default configuration (e.g. java.security.auth.login.config names a missing file): ours alone
            current = null;
        }
        if (!(current instanceof Chaining)) {
            Configuration.setConfiguration(new Chaining(current));
        }
    }

    private static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** Our sections, then whatever was configured before. */
    static final class Chaining extends Configuration {

        private final Configuration previous;

        Chaining(Configuration previous) {
            this.previous = previous;
        }

        @Override
        public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
            AppConfigurationEntry[] ours = SECTIONS.get(name);
            if (ours != null) {
                return ours.clone();
            }
            return previous == null ? null : previous.getAppConfigurationEntry(name);
        }

        @Override
        public void refresh() {
            if (previous != null) {
                previous.refresh();
            }
        }
    }
}
