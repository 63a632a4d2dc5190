{
  "targets": [
    {
      "target_name": "posix",
      "sources": ["native/addon.c", "native/fcntl.c", "native/netlink.c", "native/fd-watcher.c", "native/peercred.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "defines": ["_GNU_SOURCE"],
      "libraries": ["-lpthread"]
    }
  ]
}
