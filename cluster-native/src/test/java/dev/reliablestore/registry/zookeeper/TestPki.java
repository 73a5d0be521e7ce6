package dev.reliablestore.registry.zookeeper;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A throw-away PKI for the TLS tests, made with Bouncy Castle's certificate builders: CAs, server
 * certificates with subject alternative names, client certificates (valid or expired), written as
 * PKCS12 key and trust stores. EC P-256 keys: quick to generate on a small CI machine.
 */
final class TestPki {

    private static final AtomicLong SERIALS = new AtomicLong(System.nanoTime());

    /** A certificate and its key; a CA signs others. */
    record Issued(X509Certificate certificate, KeyPair keys, X509Certificate[] chain) {
    }

    private TestPki() {
    }

    static Issued ca(String name) throws Exception {
        KeyPair keys = keys();
        X500Name subject = new X500Name("CN=" + name + ",O=ReliableStore tests");
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
        X509Certificate cert = sign(b, keys);
        return new Issued(cert, keys, new X509Certificate[] {cert});
    }

    /** A server certificate for these DNS names and IP addresses. */
    static Issued server(Issued ca, String cn, String... sans) throws Exception {
        GeneralName[] names = new GeneralName[sans.length];
        for (int i = 0; i < sans.length; i++) {
            names[i] = new GeneralName(sans[i].matches("[0-9.]+") ? GeneralName.iPAddress : GeneralName.dNSName, sans[i]);
        }
        Instant now = Instant.now();
        return leaf(ca, "CN=" + cn + ",O=ReliableStore tests", now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)),
                new GeneralNames(names), KeyPurposeId.id_kp_serverAuth);
    }

    /** A quorum peer's certificate: it accepts connections and opens them, so it needs both purposes. */
    static Issued peer(Issued ca, String cn, String... sans) throws Exception {
        GeneralName[] names = new GeneralName[sans.length];
        for (int i = 0; i < sans.length; i++) {
            names[i] = new GeneralName(sans[i].matches("[0-9.]+") ? GeneralName.iPAddress : GeneralName.dNSName, sans[i]);
        }
        Instant now = Instant.now();
        return leaf(ca, "CN=" + cn + ",O=ReliableStore tests", now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)),
                new GeneralNames(names), KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
    }

    static Issued client(Issued ca, String subject) throws Exception {
        Instant now = Instant.now();
        return leaf(ca, subject, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)), null, KeyPurposeId.id_kp_clientAuth);
    }

    /** Valid for a day that ended yesterday. */
    static Issued expiredClient(Issued ca, String subject) throws Exception {
        Instant now = Instant.now();
        return leaf(ca, subject, now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)), null, KeyPurposeId.id_kp_clientAuth);
    }

    private static Issued leaf(Issued ca, String subject, Instant from, Instant to, GeneralNames sans, KeyPurposeId... purposes) throws Exception {
        KeyPair keys = keys();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate(), serial(), Date.from(from), Date.from(to),
                new X500Name(subject), keys.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()));
        if (sans != null) {
            b.addExtension(Extension.subjectAlternativeName, false, sans);
        }
        X509Certificate cert = sign(b, ca.keys());
        return new Issued(cert, keys, new X509Certificate[] {cert, ca.certificate()});
    }

    /** A PKCS12 key store holding this certificate, its key and chain; replaced atomically, as a deployment rotates it. */
    static Path keyStore(Path file, Issued who, String password) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("key", who.keys().getPrivate(), password.toCharArray(), who.chain());
        return write(file, ks, password);
    }

    /** A PKCS12 trust store holding these CA certificates. */
    static Path trustStore(Path file, String password, Issued... cas) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        for (int i = 0; i < cas.length; i++) {
            ks.setCertificateEntry("ca-" + i, cas[i].certificate());
        }
        return write(file, ks, password);
    }

    private static Path write(Path file, KeyStore ks, String password) throws Exception {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            ks.store(out, password.toCharArray());
        }
        return Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static KeyPair keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIALS.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }
}
