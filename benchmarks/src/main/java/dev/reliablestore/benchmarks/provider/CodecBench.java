package dev.reliablestore.benchmarks.provider;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import dev.reliablestore.cluster.ClusterPersistenceStore;
import dev.reliablestore.cluster.ReplicationMode;
import dev.reliablestore.cluster.ValueCodec;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;

/**
 * The value pipeline of a ~1 KB order (JSON → zstd → AES-256-GCM → envelope) and the peers its
 * engine choices were made against: the JDK's AES-GCM vs Bouncy Castle's lightweight GCM, and a
 * reused zstd context vs one-shot calls, all on the same bytes in the same run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CodecBench {

    private ProviderFixture fixture;
    private ValueCodec<Order> codec;
    private Order order;
    private byte[] envelope;
    private byte[] json;
    private byte[] compressed;
    private final byte[] key = new byte[32];
    private final byte[] nonce = new byte[12];
    private final SecureRandom random = new SecureRandom();
    private Cipher jdk;
    private SecretKeySpec jdkKey;
    private final GCMModeCipher bc = GCMBlockCipher.newInstance(AESEngine.newInstance());
    private final ZstdCompressCtx compressCtx = new ZstdCompressCtx().setLevel(3).setChecksum(true);
    private final ZstdDecompressCtx decompressCtx = new ZstdDecompressCtx();

    @Setup(Level.Trial)
    @SuppressWarnings("unchecked")
    public void setUp() throws Exception {
        fixture = new ProviderFixture(ReplicationMode.SYNCHRONOUS, false, true);
        codec = fixture.factory.store(Order.class).unwrap(ClusterPersistenceStore.class).codec();
        order = Order.sample(7);
        envelope = codec.encode("ORD-7", 3, order);
        json = new com.fasterxml.jackson.databind.ObjectMapper().findAndRegisterModules().writeValueAsBytes(order);
        compressed = compressCtx.compress(json);
        random.nextBytes(key);
        jdk = Cipher.getInstance("AES/GCM/NoPadding");
        jdkKey = new SecretKeySpec(key, "AES");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fixture.close();
    }

    @Benchmark
    public byte[] encode() {
        return codec.encode("ORD-7", 3, order);
    }

    @Benchmark
    public Order decode() {
        return codec.decode("ORD-7", 3, envelope);
    }

    @Benchmark
    public byte[] aesGcmJdk() throws Exception {
        random.nextBytes(nonce);
        jdk.init(Cipher.ENCRYPT_MODE, jdkKey, new GCMParameterSpec(128, nonce));
        jdk.updateAAD(nonce);
        return jdk.doFinal(compressed);
    }

    @Benchmark
    public byte[] aesGcmBouncyCastle() throws Exception {
        random.nextBytes(nonce);
        bc.init(true, new AEADParameters(new KeyParameter(key), 128, nonce.clone(), nonce));
        byte[] out = new byte[bc.getOutputSize(compressed.length)];
        int n = bc.processBytes(compressed, 0, compressed.length, out, 0);
        bc.doFinal(out, n);
        return out;
    }

    @Benchmark
    public byte[] zstdReusedContext() {
        return compressCtx.compress(json);
    }

    @Benchmark
    public byte[] zstdOneShot() {
        return Zstd.compress(json, 3);
    }

    @Benchmark
    public byte[] zstdDecompressReusedContext() {
        return decompressCtx.decompress(compressed, json.length);
    }
}
