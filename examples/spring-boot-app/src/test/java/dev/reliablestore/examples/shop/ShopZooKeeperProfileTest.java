package dev.reliablestore.examples.shop;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** The zookeeper profile: the same shop on a real ZooKeeper server (curator-test), chosen by application-zookeeper.properties. */
class ShopZooKeeperProfileTest {

    @Test
    void theProfileStoresTheShopInZooKeeper() throws Exception {
        Path dir = TestDirs.create("shop-zookeeper-test");
        // the profile reads the digest from an environment variable; a test cannot set one, so a file reference replaces it
        Path digest = Files.writeString(dir.resolve("digest"), "shop:s3cret");
        try (TestingServer zk = new TestingServer(true)) {
            String[] args = Stream.concat(Stream.of(TestDirs.arguments(dir)), Stream.of("--spring.profiles.active=zookeeper",
                    "--SHOP_ZOOKEEPER=" + zk.getConnectString(), "--reliablestore.options.registry.digest=file:" + digest)).toArray(String[]::new);
            // the context closes (and its Narayana with it) before the server stops
            try (ConfigurableApplicationContext context = SpringApplication.run(ShopApplication.class, args)) {
                OrderService service = context.getBean(OrderService.class);
                service.place("Z-1", ShopRunner.DEMO_CUSTOMER, 100);
                assertThat(context.getBean(Orders.class).findById("Z-1")).isPresent();
                assertThat(service.invoiced(ShopRunner.DEMO_CUSTOMER)).isEqualTo(100);
            }
            try (CuratorFramework client = CuratorFrameworkFactory.builder().connectString(zk.getConnectString())
                    .retryPolicy(new RetryOneTime(100)).authorization("digest", "shop:s3cret".getBytes(StandardCharsets.UTF_8)).build()) {
                client.start();
                assertThat(client.checkExists().forPath("/shop")).isNotNull();
                assertThat(client.getChildren().forPath("/shop")).isNotEmpty();
            }
        }
    }
}
