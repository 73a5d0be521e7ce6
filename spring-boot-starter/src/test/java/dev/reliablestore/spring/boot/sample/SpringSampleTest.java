package dev.reliablestore.spring.boot.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;

/** Runs the application of docs/spring.md as Spring Boot runs it and checks docs/spring.md and the README show its code and properties unchanged. */
class SpringSampleTest {

    private static final Path SAMPLE = Path.of("src/test/java/dev/reliablestore/spring/boot/sample/ShopApplication.java");
    private static final Path PROPERTIES = Path.of("src/test/resources/spring-sample/application.properties");

    @TempDir
    Path dir;

    @Test
    void theSampleApplicationSavesACustomerThroughTheAutoConfiguredFactory() {
        // command-line arguments outrank the properties file: the registry goes to the temp directory
        try (ConfigurableApplicationContext context = SpringApplication.run(ShopApplication.class,
                "--spring.config.location=classpath:spring-sample/application.properties", "--spring.main.banner-mode=off",
                // the starter's tests have tx-narayana on the class path; JTA is ReliableStoreJtaAutoConfigurationTest's
                "--reliablestore.jta.enabled=false",
                "--reliablestore.options.clusterName=embedded:" + dir.resolve("data"))) {
            @SuppressWarnings("unchecked") // the bean's type argument is erased at run time
            EntityStore<ShopApplication.Customer> customers = context.getBean(EntityStore.class);
            assertThat(customers.get("CUST-001")).hasValueSatisfying(v ->
                    assertThat(v.value()).isEqualTo(new ShopApplication.Customer("Acme Corp", "PREMIUM")));
            assertThat(context.getBean(StoreFactory.class).providerName()).isEqualTo("cluster-registry");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"docs/spring.md", "README.md"})
    void thePageShowsTheSampleUnchanged(String page) throws Exception {
        String source = Files.readString(SAMPLE);
        String code = source.substring(source.indexOf("@SpringBootApplication"));
        assertThat(Files.readString(Path.of("..").resolve(page))).contains("```java\n" + code + "```\n")
                .contains("```properties\n" + Files.readString(PROPERTIES) + "```\n");
    }
}
