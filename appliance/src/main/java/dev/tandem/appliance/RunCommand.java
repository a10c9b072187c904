package dev.tandem.appliance;

import dev.tandem.config.NodeLocalConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "run", description = "Run this node in the foreground until stopped (SIGTERM or Ctrl-C).")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "this node's node.yaml, as written by tandem init")
    Path config;

    @Override
    public Integer call() throws Exception {
        Appliance appliance = Appliance.start(NodeLocalConfig.read(config));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            appliance.close();
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
        return 0;
    }
}
