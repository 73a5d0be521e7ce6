package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryArgumentException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.common.X509Exception;
import org.apache.zookeeper.common.X509Util;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

import javax.net.ssl.X509KeyManager;

import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.StringJoiner;

/**
 * The ACL the chroot and every znode below it must carry, computed from the configured identity, and
 * the scheme-generic comparison and description of ACLs. A scheme contributes only {@link #znodeAcl()}
 * (the ids the server stores for that identity) and how its ids are shown; {@link #matches} compares
 * (scheme, id, permissions) sets whatever the scheme, so a {@code sasl} policy (id: the Kerberos
 * principal as the servers canonicalise it) or an {@code x509} one (id: the client certificate's
 * subject DN) plugs in with a factory here and a value of the {@code acl} option.
 *
 * @param scheme    the {@code acl} option's value: {@code digest}, {@code sasl}, {@code x509} or {@code open}
 * @param identity  who the ACL admits, for people and the marker: the digest user name, the Kerberos principal, the certificate's subject, or {@code anyone}
 * @param znodeAcl  exactly this on the chroot and everything below it
 * @param parentAcl on the znodes above the chroot that the registry creates
 */
record AclPolicy(String scheme, String identity, List<ACL> znodeAcl, List<ACL> parentAcl) {

    static final List<ACL> OPEN = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    /** Above a protected chroot: names readable and creatable by anyone, so tenants can share the parents. */
    // not List.of: ZooKeeper's ACL validation asks contains(null), which List.of answers with an exception
    static final List<ACL> SHARED_PARENT = Collections.singletonList(new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, ZooDefs.Ids.ANYONE_ID_UNSAFE));

    static AclPolicy of(ZooKeeperOptions options) {
        return switch (options.acl()) {
            case ZooKeeperOptions.ACL_OPEN -> new AclPolicy(ZooKeeperOptions.ACL_OPEN, "anyone", OPEN, OPEN);
            case ZooKeeperOptions.ACL_DIGEST -> digest(options.digestCredentials());
            case ZooKeeperOptions.ACL_X509 -> x509(options);
            case ZooKeeperOptions.ACL_SASL -> sasl(options);
            default -> throw new IllegalArgumentException("no ACL policy for " + options.acl());
        };
    }

    private static AclPolicy digest(String credentials) {
        String user = credentials.substring(0, credentials.indexOf(':'));
        try {
            Id id = new Id("digest", DigestAuthenticationProvider.generateDigest(credentials));
            return new AclPolicy(ZooKeeperOptions.ACL_DIGEST, user, Collections.singletonList(new ACL(ZooDefs.Perms.ALL, id)), SHARED_PARENT);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA1 is not available for ZooKeeper digest ACLs", e);
        }
    }

    /**
     * The id ZooKeeper's X509AuthenticationProvider gives a connection is its certificate's subject in
     * RFC 2253 form ({@code getSubjectX500Principal().getName()}); the ACL must name exactly that string.
     */
    private static AclPolicy x509(ZooKeeperOptions options) {
        String subject = subjectOf(options.tlsKeyStore(), options.tlsKeyStorePassword());
        Id id = new Id(ZooKeeperOptions.ACL_X509, subject);
        return new AclPolicy(ZooKeeperOptions.ACL_X509, subject, Collections.singletonList(new ACL(ZooDefs.Perms.ALL, id)), SHARED_PARENT);
    }

    /**
     * The servers' SASLAuthenticationProvider gives a connection the id of its authenticated principal,
     * in full unless the servers set {@code kerberos.removeHostFromPrincipal}/{@code removeRealmFromPrincipal}
     * (then this ACL never matches, and opening is refused naming it).
     */
    private static AclPolicy sasl(ZooKeeperOptions options) {
        List<ACL> acl = new ArrayList<>();
        acl.add(new ACL(ZooDefs.Perms.ALL, new Id(ZooKeeperOptions.ACL_SASL, options.kerberosPrincipal())));
        for (String reader : options.kerberosReadOnlyPrincipals()) {
            acl.add(new ACL(ZooDefs.Perms.READ, new Id(ZooKeeperOptions.ACL_SASL, reader)));
        }
        // not List.of: see SHARED_PARENT
        return new AclPolicy(ZooKeeperOptions.ACL_SASL, options.kerberosPrincipal(), Collections.unmodifiableList(acl), SHARED_PARENT);
    }

    /** Loaded as the client loads it (X509Util), so every store type the client takes works here too. */
    private static String subjectOf(String keyStore, String password) {
        try {
            X509KeyManager km = X509Util.createKeyManager(keyStore, password == null ? "" : password, ZooKeeperOptions.storeType(keyStore));
            String alias = km.chooseClientAlias(new String[] {"RSA", "EC", "EdDSA", "Ed25519", "Ed448", "DSA"}, null, null);
            X509Certificate[] chain = alias == null ? null : km.getCertificateChain(alias);
            if (chain == null || chain.length == 0) {
                throw new RegistryArgumentException("option acl=x509: option tlsKeyStore \"" + keyStore + "\" holds no private key with an"
                        + " X.509 certificate");
            }
            return chain[0].getSubjectX500Principal().getName();
        } catch (X509Exception.KeyManagerException e) {
            // the causes' messages, never the password (a wrong one shows as the store's integrity check failing)
            throw new RegistryArgumentException("option acl=x509: could not read the client certificate from option tlsKeyStore \""
                    + keyStore + "\" with tlsKeyStorePassword: " + ZooKeeperTlsProbe.messages(e));
        }
    }

    /** Whether opening checks the ACLs: an open store has nothing to protect. */
    boolean enforced() {
        return !scheme.equals(ZooKeeperOptions.ACL_OPEN);
    }

    /** Exactly the expected entries, in any order. */
    boolean matches(List<ACL> actual) {
        return actual != null && actual.size() == znodeAcl.size() && new HashSet<>(actual).equals(new HashSet<>(znodeAcl));
    }

    /** The expected ACL for people. */
    String expected() {
        return describe(znodeAcl);
    }

    /**
     * An ACL for people and messages, without secrets: a digest id is {@code user:base64(sha1(user:password))},
     * which would let anyone test passwords offline, so only its user is shown.
     */
    String describe(List<ACL> acl) {
        if (acl == null) {
            return "(not readable with the configured credentials)";
        }
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (ACL a : acl) {
            j.add(describe(a.getId()) + " " + permissions(a.getPerms()));
        }
        return j.toString();
    }

    private String describe(Id id) {
        if (!"digest".equals(id.getScheme())) {
            return id.getScheme() + ":" + id.getId();
        }
        String user = id.getId().contains(":") ? id.getId().substring(0, id.getId().indexOf(':')) : id.getId();
        boolean ours = znodeAcl.stream().anyMatch(a -> a.getId().equals(id));
        return "digest:" + user + (ours || !user.equals(identity) ? "" : " (another password)");
    }

    /** ZooKeeper's letters, as zkCli shows them. */
    static String permissions(int perms) {
        StringBuilder sb = new StringBuilder();
        sb.append((perms & ZooDefs.Perms.CREATE) != 0 ? "c" : "");
        sb.append((perms & ZooDefs.Perms.DELETE) != 0 ? "d" : "");
        sb.append((perms & ZooDefs.Perms.READ) != 0 ? "r" : "");
        sb.append((perms & ZooDefs.Perms.WRITE) != 0 ? "w" : "");
        sb.append((perms & ZooDefs.Perms.ADMIN) != 0 ? "a" : "");
        return sb.length() == 0 ? "none" : sb.toString();
    }

    @Override
    public String toString() {
        return "AclPolicy[" + scheme + ":" + identity + " " + expected() + "]";
    }
}
