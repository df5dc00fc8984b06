;; The frame-buffer adapter (gpu_host/frame_buffer_adapter.py composes it in front of a guest).
;;
;; It exports wasi:frame-buffer/frame-buffer@0.0.1 to the guest: every function is the host's own,
;; passed through, except `[method]buffer.set`. That one takes the guest's pixels into this
;; component's memory (a copy between components, done by wasmtime's compiled adapters) and hands
;; them to the host as strings whose encoding is latin1 (one byte is one character, any byte
;; allowed): wasmtime lifts a string for a host function in bulk, while a `list<u8>` is lifted
;; element by element and charged against its per-call "hostcall fuel" (docs/runtime.md). A string
;; is charged too, one unit a byte, up to 128 MiB a call: frames are sent in parts of 64 MiB.
(component
  (import "wasi:graphics-context/graphics-context@0.0.1" (instance $graphics-context
    (export "context" (type (sub resource)))
    (export "abstract-buffer" (type (sub resource)))))
  (alias export $graphics-context "context" (type $context))
  (alias export $graphics-context "abstract-buffer" (type $abstract-buffer))

  (import "wasi:frame-buffer/frame-buffer@0.0.1" (instance $host
    (export "device" (type (sub resource)))
    (alias outer 1 $context (type $context-outer))
    (export "context" (type (eq $context-outer)))
    (export "buffer" (type (sub resource)))
    (alias outer 1 $abstract-buffer (type $abstract-buffer-outer))
    (export "abstract-buffer" (type (eq $abstract-buffer-outer)))
    (export "[constructor]device" (func (result (own 0))))
    (export "[method]device.connect-graphics-context"
      (func (param "self" (borrow 0)) (param "context" (borrow 2))))
    (export "[static]buffer.from-graphics-buffer" (func (param "buffer" (own 5)) (result (own 3))))
    (export "[method]buffer.get" (func (param "self" (borrow 3)) (result (list u8))))
    (export "[method]buffer.set" (func (param "self" (borrow 3)) (param "val" (list u8))))))
  (alias export $host "device" (type $device))
  (alias export $host "buffer" (type $buffer))

  ;; The host's side (gpu_host/frame_buffer.py): one part of a `set` of `length` bytes, the bytes
  ;; from `offset` on, as a latin1 string; parts come in order.
  (import "streamer:frame-buffer/bulk@0.1.0" (instance $bulk
    (alias outer 1 $buffer (type $buffer-outer))
    (export "buffer" (type (eq $buffer-outer)))
    (export "set"
      (func (param "buffer" (borrow 0)) (param "length" u32) (param "offset" u32) (param "part" string)))))
  (alias export $bulk "set" (func $bulk-set))

  (core module $memory-module (memory (export "memory") 0))
  (core instance $memory-instance (instantiate $memory-module))
  (alias core export $memory-instance "memory" (core memory $memory))
  (core func $bulk-set-lowered
    (canon lower (func $bulk-set) (memory $memory) string-encoding=latin1+utf16))
  (core func $drop-buffer (canon resource.drop $buffer))

  (core module $main
    (import "host" "memory" (memory 0))
    (import "host" "set" (func $host-set (param i32 i32 i32 i32 i32)))
    (import "host" "drop-buffer" (func $drop-buffer (param i32)))
    ;; One list at a time enters this component (the pixels of one `set`), so every allocation is
    ;; at offset 0, the memory grown to fit it; a growth past the guest's memory limit traps.
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $pages i32)
      (local.set $pages (i32.shr_u (i32.add (local.get 3) (i32.const 65535)) (i32.const 16)))
      (if (i32.gt_u (local.get $pages) (memory.size))
        (then
          (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
            (then unreachable))))
      (i32.const 0))
    ;; A latin1 string's length is its byte count; the top bit (utf16) stays clear: a part is
    ;; at most 64 MiB. The guest's borrow of the buffer is a handle of this component's (the
    ;; resource is the host's), which must be dropped before returning.
    (func (export "set") (param $self i32) (param $pixels i32) (param $length i32)
      (local $offset i32)
      (local $part i32)
      (loop $parts
        (local.set $part (i32.sub (local.get $length) (local.get $offset)))
        (if (i32.gt_u (local.get $part) (i32.const 0x4000000))
          (then (local.set $part (i32.const 0x4000000))))
        (call $host-set
          (local.get $self) (local.get $length) (local.get $offset)
          (i32.add (local.get $pixels) (local.get $offset)) (local.get $part))
        (local.set $offset (i32.add (local.get $offset) (local.get $part)))
        (br_if $parts (i32.lt_u (local.get $offset) (local.get $length))))
      (call $drop-buffer (local.get $self))))
  (core instance $main-instance (instantiate $main
    (with "host" (instance
      (export "memory" (memory $memory))
      (export "set" (func $bulk-set-lowered))
      (export "drop-buffer" (func $drop-buffer))))))
  (alias core export $main-instance "realloc" (core func $realloc))
  (func $set (param "self" (borrow $buffer)) (param "val" (list u8))
    (canon lift (core func $main-instance "set") (memory $memory) (realloc $realloc)))

  ;; The exported instance is made by a nested component, so that its functions' types name the
  ;; resources by the names the instance exports (a validation rule of the component model).
  (component $interface
    (import "device" (type $device (sub resource)))
    (import "context" (type $context (sub resource)))
    (import "buffer" (type $buffer (sub resource)))
    (import "abstract-buffer" (type $abstract-buffer (sub resource)))
    (import "new-device" (func $new-device (result (own $device))))
    (import "connect" (func $connect (param "self" (borrow $device)) (param "context" (borrow $context))))
    (import "from-graphics-buffer"
      (func $from-graphics-buffer (param "buffer" (own $abstract-buffer)) (result (own $buffer))))
    (import "get" (func $get (param "self" (borrow $buffer)) (result (list u8))))
    (import "set" (func $set (param "self" (borrow $buffer)) (param "val" (list u8))))
    (export $d "device" (type $device))
    (export $c "context" (type $context))
    (export $b "buffer" (type $buffer))
    (export $a "abstract-buffer" (type $abstract-buffer))
    (export "[constructor]device" (func $new-device) (func (result (own $d))))
    (export "[method]device.connect-graphics-context" (func $connect)
      (func (param "self" (borrow $d)) (param "context" (borrow $c))))
    (export "[static]buffer.from-graphics-buffer" (func $from-graphics-buffer)
      (func (param "buffer" (own $a)) (result (own $b))))
    (export "[method]buffer.get" (func $get) (func (param "self" (borrow $b)) (result (list u8))))
    (export "[method]buffer.set" (func $set)
      (func (param "self" (borrow $b)) (param "val" (list u8)))))
  (alias export $host "[constructor]device" (func $new-device))
  (alias export $host "[method]device.connect-graphics-context" (func $connect))
  (alias export $host "[static]buffer.from-graphics-buffer" (func $from-graphics-buffer))
  (alias export $host "[method]buffer.get" (func $get))
  (instance $frame-buffer (instantiate $interface
    (with "device" (type $device))
    (with "context" (type $context))
    (with "buffer" (type $buffer))
    (with "abstract-buffer" (type $abstract-buffer))
    (with "new-device" (func $new-device))
    (with "connect" (func $connect))
    (with "from-graphics-buffer" (func $from-graphics-buffer))
    (with "get" (func $get))
    (with "set" (func $set))))
  (export "wasi:frame-buffer/frame-buffer@0.0.1" (instance $frame-buffer))
)
