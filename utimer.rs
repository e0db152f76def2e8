// SPDX-License-Identifier: GPL-2.0

//! `/dev/utimer` and the timers it creates.
//!
//! CREATE and TRIGGER are upstream's `CONFIG_SND_UTIMER` ([`sound/core/timer.c`]), and
//! [`IOCTL_CREATE_EXT`] is our own, strict CREATE that can take a given id. How they differ from
//! upstream's, and why: `Documentation/abi.rst`.
//!
//! [`sound/core/timer.c`]: srctree/sound/core/timer.c

use core::fmt::Write as _;
use kernel::{
    bindings,
    fmt,
    fs::{
        file::FileDescriptorReservation,
        File, //
    },
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    str::{
        BStr,
        CStr,
        Formatter, //
    },
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
    },
    task::{
        Kuid,
        Pid, //
    },
    time::{
        Instant,
        Monotonic, //
    },
    types::ScopeGuard,
    uaccess::UserSlice, //
};

use crate::{
    compat,
    config,
    defs::{
        TimerAttach,
        TimerCreate,
        TimerRemove,
        TimerUinfo,
        CREATE_HOLDOVER,
        CREATE_ID,
        CREATE_PERSIST,
        IOCTL_ATTACH,
        IOCTL_CREATE,
        IOCTL_CREATE_EXT,
        IOCTL_REMOVE,
        IOCTL_TRIGGER,
        MAX_HOLDOVER,
        MAX_RESOLUTION,
        MIN_RESOLUTION, //
    },
    file::{
        self,
        FileOps, //
    },
    ids::{
        Ids,
        TakeError, //
    },
    persist::Persistent,
    task,
    timer::Timer, //
};

/// The live timers of one user, counted against [`Registry::max_user_timers`].
struct UserCount {
    uid: Kuid,
    count: u32,
}

/// Everything the driver knows about its timers, under one lock.
pub(crate) struct Registry {
    /// Ids in use: those of live timers and those being tried by a CREATE.
    ids: Ids,
    /// Live timers per user (real uid), including timers being created.
    users: KVec<UserCount>,
    /// The most timers one user may hold, unless it has `CAP_SYS_RESOURCE`.
    max_user_timers: u32,
    /// Live timers by id, for the debugfs listing; the slots are allocated at load time.
    timers: KVVec<Listed>,
    /// Periods without a TRIGGER before a persistent timer's holdover, unless it says otherwise.
    holdover: u32,
}

impl Registry {
    const fn new() -> Self {
        Self {
            ids: Ids::new(),
            users: KVec::new(),
            max_user_timers: 0,
            timers: KVVec::new(),
            holdover: 0,
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised in the module's init before `/dev/utimer` is registered.
    unsafe(uninit) static REGISTRY: Mutex<Registry> = Registry::new();
}

/// The driver's global state, from [`init`]; dropping it (at unload) frees what it allocated.
///
/// A static is never dropped: without this, each load would leak the registry's vectors.
pub(crate) struct State(());

/// Initialises the driver's global state and makes the persistent timers of `timers`
/// (`timers=`, see [`config`]); called once, before `/dev/utimer` exists.
///
/// `max_timers` must be at most [`crate::ids::MAX_CAPACITY`], `holdover` at most
/// [`MAX_HOLDOVER`]. An entry of `timers` that cannot be made fails the load with `EINVAL`, and
/// the kernel log names it.
pub(crate) fn init(
    max_timers: u32,
    max_user_timers: u32,
    holdover: u32,
    timers: &[u8],
) -> Result<State> {
    // SAFETY: Called once from the module's init, before any other use of `REGISTRY`.
    unsafe { REGISTRY.init() };
    let state = State(());
    {
        let mut reg = REGISTRY.lock();
        reg.ids.set_capacity(max_timers);
        reg.max_user_timers = max_user_timers;
        reg.holdover = holdover;
        let now = Instant::now();
        let uid = current!().uid();
        for _ in 0..max_timers {
            reg.timers.push(Listed::empty(now, uid), GFP_KERNEL)?;
        }
    }
    for (text, entry) in config::entries(timers) {
        let text = BStr::from_bytes(text);
        let entry = entry.map_err(|why| {
            pr_err!("timers=: entry '{}' is malformed: {}\n", text, why.reason());
            EINVAL
        })?;
        let id = Id::take_exact(entry.id).map_err(|e| {
            if e == EBUSY {
                pr_err!(
                    "timers=: entry '{}': timer {} is declared twice\n",
                    text,
                    entry.id
                );
            } else {
                pr_err!(
                    "timers=: entry '{}': id {} is not below max_timers={}\n",
                    text,
                    entry.id,
                    max_timers
                );
            }
            EINVAL
        })?;
        if !(MIN_RESOLUTION..=MAX_RESOLUTION).contains(&entry.resolution) {
            pr_err!(
                "timers=: entry '{}': a resolution of {} ns is out of range ({} to {} ns)\n",
                text,
                entry.resolution,
                MIN_RESOLUTION,
                MAX_RESOLUTION
            );
            return Err(EINVAL);
        }
        let periods = entry.holdover.unwrap_or(holdover);
        if periods > MAX_HOLDOVER {
            pr_err!(
                "timers=: entry '{}': a holdover of {} periods is above {}\n",
                text,
                periods,
                MAX_HOLDOVER
            );
            return Err(EINVAL);
        }
        let timer = Persistent::new(id, entry.resolution, periods).inspect_err(|e| {
            pr_err!(
                "timers=: entry '{}': timer {} cannot be registered ({:?}; EBUSY: the kernel's \
                 own CONFIG_SND_UTIMER holds it)\n",
                text,
                entry.id,
                e
            );
        })?;
        list_persistent(timer);
    }
    Ok(state)
}

impl Drop for State {
    fn drop(&mut self) {
        // No owned timer is left: each timer file holds a reference on the module. Persistent
        // ones are freed after the lock is released: their ids go back to the registry.
        let timers = {
            let mut reg = REGISTRY.lock();
            reg.users = KVec::new();
            core::mem::take(&mut reg.timers)
        };
        drop(timers);
    }
}

/// Lists a persistent timer made by the calling task: from here `UTIMER_IOCTL_ATTACH` finds it.
fn list_persistent(timer: Arc<Persistent>) {
    let caller = current!();
    let listed = Listed {
        creator_uid: caller.uid(),
        creator_pid: caller.group_leader().pid(),
        creator_comm: task::current_comm(),
        created: Instant::now(),
        timer: Some(Live::Persistent(timer)),
    };
    let old = REGISTRY
        .lock()
        .timers
        .get_mut(listed.slot())
        .map(|place| core::mem::replace(place, listed));
    drop(old);
}

/// A timer id, returned to the set when dropped.
pub(crate) struct Id(u32);

impl Id {
    /// The id's number: the timer's subdevice.
    pub(crate) fn number(&self) -> u32 {
        self.0
    }

    pub(crate) fn take() -> Result<Self> {
        REGISTRY.lock().ids.take().map(Id).ok_or(ENOSPC)
    }

    /// Takes `id` itself: `EINVAL` when it is not below the capacity, `EBUSY` when it is taken.
    pub(crate) fn take_exact(id: u32) -> Result<Self> {
        match REGISTRY.lock().ids.take_exact(id) {
            Ok(()) => Ok(Id(id)),
            Err(TakeError::OutOfRange) => Err(EINVAL),
            Err(TakeError::Taken) => Err(EBUSY),
        }
    }
}

impl Drop for Id {
    fn drop(&mut self) {
        REGISTRY.lock().ids.put(self.0);
    }
}

/// One timer counted against a user's quota, uncounted when dropped.
struct Charge(Kuid);

impl Charge {
    /// Counts one more timer for `uid`; `EDQUOT` if it has its quota already and may not
    /// override it.
    fn new(uid: Kuid) -> Result<Self> {
        let mut reg = REGISTRY.lock();
        let max = reg.max_user_timers;
        match reg.users.iter_mut().find(|u| u.uid == uid) {
            Some(user) => {
                if user.count >= max && !task::capable_sys_resource() {
                    return Err(compat::edquot());
                }
                user.count += 1;
            }
            None => {
                reg.users.push(UserCount { uid, count: 1 }, GFP_KERNEL)?;
            }
        }
        Ok(Self(uid))
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        let mut reg = REGISTRY.lock();
        let users = &mut reg.users;
        let Some(i) = users.iter().position(|u| u.uid == self.0) else {
            return;
        };
        match users.get_mut(i) {
            Some(user) if user.count > 1 => user.count -= 1,
            // The user's last timer: forget the user.
            _ => drop(users.remove(i)),
        }
    }
}

/// A timer created through `/dev/utimer`, shared by its fd and its listing.
///
/// Only what the fd needs is here (32 bytes with the reference count, the smallest slab that
/// fits); who created the timer and when is in its [`Listed`] slot, allocated at load time.
pub(crate) struct UserTimer {
    // Field order matters: the timer is unregistered before its id can be taken again.
    timer: Timer,
    id: Id,
    charge: Charge,
    triggers: Atomic<u64>,
}

/// A live timer: owned by its fd, or persistent.
#[derive(Clone)]
enum Live {
    Owned(Arc<UserTimer>),
    Persistent(Arc<Persistent>),
}

/// A slot of the debugfs listing: a live timer, and who created it when.
pub(crate) struct Listed {
    timer: Option<Live>,
    creator_uid: Kuid,
    creator_pid: Pid,
    creator_comm: [u8; 16],
    created: Instant<Monotonic>,
}

impl Listed {
    fn empty(now: Instant<Monotonic>, uid: Kuid) -> Self {
        Self {
            timer: None,
            creator_uid: uid,
            creator_pid: 0,
            creator_comm: [0; 16],
            created: now,
        }
    }

    /// The slot of the listing that is the timer's, by its id.
    fn slot(&self) -> usize {
        match &self.timer {
            Some(Live::Owned(t)) => t.id.0 as usize,
            Some(Live::Persistent(t)) => t.id() as usize,
            None => usize::MAX,
        }
    }

    fn comm(&self) -> &BStr {
        BStr::from_bytes(self.creator_comm.split(|&c| c == 0).next().unwrap_or(&[]))
    }

    /// One line of the debugfs listing, if the slot has a timer; see [`write_listing`].
    fn write_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let age = self.created.elapsed().as_millis();
        let uid = self.creator_uid.into_uid_in_current_ns();
        match &self.timer {
            None => Ok(()),
            Some(Live::Owned(t)) => f.write_fmt(fmt!(
                "{} {} {} {} {} {} {} 0 {} driven 0 {}\n",
                t.id.0,
                t.charge.0.into_uid_in_current_ns(),
                self.creator_pid,
                t.timer.resolution(),
                t.triggers.load(Relaxed),
                t.timer.instances(),
                age,
                self.creator_pid,
                self.comm(),
            )),
            Some(Live::Persistent(t)) => f.write_fmt(fmt!(
                "{} {} {} {} {} {} {} 1 {} {} {} {}\n",
                t.id(),
                uid,
                self.creator_pid,
                t.resolution(),
                t.triggers(),
                t.instances(),
                age,
                t.writer(),
                t.state(),
                t.holdover_ticks(),
                self.comm(),
            )),
        }
    }
}

/// A timer's fd owns a reference to its [`UserTimer`]; while the fd is open, the timer is also
/// listed in the registry.
impl FileOps for UserTimer {
    // Inlined into the file's `unlocked_ioctl`: TRIGGER is the hot path.
    #[inline]
    fn ioctl(&self, cmd: u32, _arg: usize) -> Result<isize> {
        match cmd {
            IOCTL_TRIGGER => {
                self.triggers.add(1, Relaxed);
                self.timer.interrupt();
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }

    fn show_fdinfo(&self, m: &SeqFile) {
        seq_print!(m, "utimer-id:\t{}\n", self.id.0);
        seq_print!(m, "utimer-resolution:\t{}\n", self.timer.resolution());
        seq_print!(m, "utimer-triggers:\t{}\n", self.triggers.load(Relaxed));
        seq_print!(m, "utimer-instances:\t{}\n", self.timer.instances());
        seq_print!(m, "utimer-persistent:\t0\n");
    }

    /// The fd's last close: unlisted, so that the file's reference is the last one.
    fn release(&self) {
        // Taken out under the lock, dropped after it: never the last reference, the file's is.
        let id = self.id.0 as usize;
        let listed = REGISTRY
            .lock()
            .timers
            .get_mut(id)
            .and_then(|slot| slot.timer.take());
        drop(listed);
    }
}

/// A timer's name, `snd-utimer<id>`, as upstream names its timers and their files; formatted on
/// the stack, as CREATE needs it only while it runs.
pub(crate) struct TimerName {
    buf: [u8; 24],
    len: usize,
}

impl TimerName {
    pub(crate) fn new(id: u32) -> Result<Self> {
        let mut buf = [0u8; 24];
        let mut f = Formatter::new(&mut buf);
        f.write_fmt(fmt!("snd-utimer{id}"))?;
        let len = f.bytes_written();
        // The rest of `buf` stays 0: the first byte after the name is its NUL.
        Ok(Self { buf, len: len + 1 })
    }

    pub(crate) fn as_cstr(&self) -> Result<&CStr> {
        let bytes = self.buf.get(..self.len).ok_or(EINVAL)?;
        CStr::from_bytes_with_nul(bytes).map_err(|_| EINVAL)
    }
}

/// Registers a timer on the lowest free id whose subdevice no other driver has taken.
///
/// The kernel's own `CONFIG_SND_UTIMER` numbers its timers in the same (GLOBAL, 4, subdevice)
/// space; a subdevice it holds makes registration fail with `EBUSY`, and we try the next id.
/// The ids tried meanwhile stay taken until we return, so each is tried once. `ENOSPC` when no
/// id is left.
fn register_lowest_free(resolution: u64) -> Result<(Id, TimerName, Timer)> {
    let mut busy = KVec::new();
    loop {
        let id = Id::take()?;
        let name = TimerName::new(id.0)?;
        match Timer::register(name.as_cstr()?, id.0, resolution) {
            Ok(timer) => return Ok((id, name, timer)),
            Err(e) if e == EBUSY => busy.push(id, GFP_KERNEL)?,
            Err(e) => return Err(e),
        }
    }
}

/// Registers a timer on `id`, taken with [`Id::take_exact`]: `EBUSY` when the kernel's own
/// `CONFIG_SND_UTIMER` holds its subdevice.
fn register_exactly(id: Id, resolution: u64) -> Result<(Id, TimerName, Timer)> {
    let name = TimerName::new(id.0)?;
    let timer = Timer::register(name.as_cstr()?, id.0, resolution)?;
    Ok((id, name, timer))
}

/// A timer made by a CREATE and not yet visible to userspace: nothing is left of it if it is
/// dropped, and [`Created::install`] gives it its fd.
struct Created {
    id: u32,
    fd: FileDescriptorReservation,
    file: ARef<File>,
    listed: Listed,
}

impl Created {
    /// Makes a timer at `resolution`, on `id` or the lowest free id, for the calling task.
    ///
    /// Everything that can fail happens here. An id asked for is taken first, so that a request
    /// that cannot succeed (`EINVAL`, `EBUSY`) says so whatever the caller's quota; then the quota
    /// is charged, and the rest follows upstream's order (its id, then its fd).
    fn new(resolution: u64, id: Option<u32>) -> Result<Self> {
        let caller = current!();
        let wanted = id.map(Id::take_exact).transpose()?;
        let charge = Charge::new(caller.uid())?;
        let (id, name, timer) = match wanted {
            Some(id) => register_exactly(id, resolution)?,
            None => register_lowest_free(resolution)?,
        };
        let fd = FileDescriptorReservation::get_unused_fd_flags(bindings::O_CLOEXEC)?;
        let id_number = id.0;
        let user_timer = Arc::new(
            UserTimer {
                timer,
                id,
                charge,
                triggers: Atomic::new(0),
            },
            GFP_KERNEL,
        )?;
        let file = file::new_file(name.as_cstr()?, user_timer.clone())?;
        Ok(Self {
            id: id_number,
            fd,
            file,
            listed: Listed {
                timer: Some(Live::Owned(user_timer)),
                creator_uid: caller.uid(),
                // The thread group's id, `tgid` (as `CurrentTask::tgid()` of 7.3 on).
                creator_pid: caller.group_leader().pid(),
                creator_comm: task::current_comm(),
                created: Instant::now(),
            },
        })
    }

    /// The fd the timer will have.
    fn fd(&self) -> Result<i32> {
        Ok(self.fd.reserved_fd().try_into()?)
    }

    /// Lists the timer and installs its fd: from here userspace has it.
    fn install(self) {
        let slot = self.id as usize;
        if let Some(place) = REGISTRY.lock().timers.get_mut(slot) {
            *place = self.listed;
        }
        self.fd.fd_install(self.file);
    }
}

/// `SNDRV_TIMER_IOCTL_CREATE`: makes a timer and returns its id and a new fd that owns it.
///
/// Any resolution but 0 is accepted, and `reserved` is ignored and written back as read, as
/// upstream does. A failure, the copy back to userspace included, leaves nothing behind: the fd is
/// installed last.
fn create(arg: usize) -> Result<isize> {
    let (mut reader, mut writer) =
        UserSlice::new(UserPtr::from_addr(arg), size_of::<TimerUinfo>()).reader_writer();
    let mut info: TimerUinfo = reader.read()?;
    if info.resolution == 0 {
        return Err(EINVAL);
    }
    let created = Created::new(info.resolution, None)?;
    info.id = created.id;
    info.fd = created.fd()?;
    // On failure `created` is dropped here, and its file's release frees the timer and the id
    // before this task returns to userspace.
    writer.write(&info)?;
    created.install();
    Ok(0)
}

/// Checks [`IOCTL_CREATE_EXT`]'s argument: `EINVAL` for unknown flags, reserved fields that are
/// not zero, a holdover without its flags or above [`MAX_HOLDOVER`], or a resolution out of
/// [`MIN_RESOLUTION`, `MAX_RESOLUTION`]. Returns the id asked for, if any.
fn validate_ext(req: &TimerCreate) -> Result<Option<u32>> {
    if req.flags & !(CREATE_ID | CREATE_PERSIST | CREATE_HOLDOVER) != 0
        || req.reserved.iter().any(|&r| r != 0)
    {
        return Err(EINVAL);
    }
    if req.flags & CREATE_HOLDOVER == 0 {
        if req.holdover != 0 {
            return Err(EINVAL);
        }
    } else if req.flags & CREATE_PERSIST == 0 || req.holdover > MAX_HOLDOVER {
        return Err(EINVAL);
    }
    if !(MIN_RESOLUTION..=MAX_RESOLUTION).contains(&req.resolution) {
        return Err(EINVAL);
    }
    Ok((req.flags & CREATE_ID != 0).then_some(req.id))
}

/// `UTIMER_IOCTL_CREATE_EXT`: our own CREATE, strict about its input and able to take a given id.
fn create_ext(arg: usize) -> Result<isize> {
    let (mut reader, mut writer) =
        UserSlice::new(UserPtr::from_addr(arg), size_of::<TimerCreate>()).reader_writer();
    let mut req: TimerCreate = reader.read()?;
    let id = validate_ext(&req)?;
    if req.flags & CREATE_PERSIST != 0 {
        let timer = new_persistent(&req, id)?;
        req.id = timer.id();
        req.fd = -1;
        // On failure `timer` is dropped here, unlisted: nothing is left of it.
        writer.write(&req)?;
        list_persistent(timer);
        return Ok(0);
    }
    let created = Created::new(req.resolution, id)?;
    req.id = created.id;
    req.fd = created.fd()?;
    writer.write(&req)?;
    created.install();
    Ok(0)
}

/// A persistent timer for [`IOCTL_CREATE_EXT`], on `id` or the lowest free id: `EPERM` unless the
/// caller has `CAP_SYS_ADMIN` (it outlives the caller and counts against no user's quota).
fn new_persistent(req: &TimerCreate, id: Option<u32>) -> Result<Arc<Persistent>> {
    if !task::capable_sys_admin() {
        return Err(EPERM);
    }
    let holdover = if req.flags & CREATE_HOLDOVER != 0 {
        req.holdover
    } else {
        REGISTRY.lock().holdover
    };
    if let Some(id) = id {
        return Persistent::new(Id::take_exact(id)?, req.resolution, holdover);
    }
    // The lowest id whose subdevice the kernel's own CONFIG_SND_UTIMER does not hold; the ids
    // tried meanwhile are held again until we return, so each is tried once.
    let mut busy = KVec::new();
    loop {
        let id = Id::take()?;
        let number = id.0;
        match Persistent::new(id, req.resolution, holdover) {
            Err(e) if e == EBUSY => {
                if let Ok(again) = Id::take_exact(number) {
                    busy.push(again, GFP_KERNEL)?;
                }
            }
            result => return result,
        }
    }
}

/// `UTIMER_IOCTL_ATTACH`: the caller becomes the writer of a persistent timer, through a new fd.
fn attach(arg: usize) -> Result<isize> {
    let (mut reader, mut writer) =
        UserSlice::new(UserPtr::from_addr(arg), size_of::<TimerAttach>()).reader_writer();
    let mut req: TimerAttach = reader.read()?;
    if req.flags != 0 || req.reserved.iter().any(|&r| r != 0) {
        return Err(EINVAL);
    }
    let tgid = current!().group_leader().pid();
    let timer = match REGISTRY
        .lock()
        .timers
        .get(req.id as usize)
        .and_then(|slot| slot.timer.as_ref())
    {
        None => return Err(ENOENT),
        // Its fd is its writer.
        Some(Live::Owned(_)) => return Err(EBUSY),
        Some(Live::Persistent(t)) => {
            t.attach(tgid)?;
            t.clone()
        }
    };
    // Attached: until the file exists, a failure detaches here; after, the file's release does.
    let attached = ScopeGuard::new_with_data(timer, |t| t.detach());
    let fd = FileDescriptorReservation::get_unused_fd_flags(bindings::O_CLOEXEC)?;
    let name = TimerName::new(req.id)?;
    let file = file::new_file(name.as_cstr()?, (*attached).clone())?;
    let timer = attached.dismiss();
    req.fd = fd.reserved_fd().try_into()?;
    writer.write(&req)?;
    // Attaching takes the clock: no holdover tick from here until `holdover` quiet periods.
    timer.take();
    fd.fd_install(file);
    Ok(0)
}

/// `UTIMER_IOCTL_REMOVE`: destroys a persistent timer that no writer holds.
fn remove(arg: usize) -> Result<isize> {
    let req: TimerRemove = UserSlice::new(UserPtr::from_addr(arg), size_of::<TimerRemove>())
        .reader()
        .read()?;
    if req.flags != 0 || req.reserved.iter().any(|&r| r != 0) {
        return Err(EINVAL);
    }
    if !task::capable_sys_admin() {
        return Err(EPERM);
    }
    let removed = {
        let mut reg = REGISTRY.lock();
        let slot = reg.timers.get_mut(req.id as usize).ok_or(ENOENT)?;
        match &slot.timer {
            Some(Live::Persistent(t)) if t.writer() != 0 => return Err(EBUSY),
            Some(Live::Persistent(_)) => slot.timer.take(),
            _ => return Err(ENOENT),
        }
    };
    // Unregistered here, without the lock: its id goes back to the registry.
    drop(removed);
    Ok(0)
}

/// The debugfs listing of every live timer, one line each, after a header:
///
/// ```text
/// # max_timers 128 max_user_timers 32 live 1
/// # id uid pid resolution_ns triggers instances age_ms comm
/// 0 1000 4242 10000000 5 1 1234 netaudio
/// ```
///
/// `comm` is last because it may contain spaces.
pub(crate) fn write_listing(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let reg = REGISTRY.lock();
    let live = reg.timers.iter().filter(|l| l.timer.is_some()).count();
    writeln!(
        f,
        "# max_timers {} max_user_timers {} live {}",
        reg.timers.len(),
        reg.max_user_timers,
        live
    )?;
    writeln!(
        f,
        "# id uid pid resolution_ns triggers instances age_ms persistent writer state \
         holdover_ticks comm"
    )?;
    for listed in reg.timers.iter() {
        listed.write_line(f)?;
    }
    Ok(())
}

/// `/dev/utimer`, whose ioctls make timers; an open file of it holds nothing.
pub(crate) struct Control;

impl Control {
    /// Handles an ioctl on `/dev/utimer`, for native and 32-bit tasks alike.
    pub(crate) fn ioctl(cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            IOCTL_CREATE => create(arg),
            IOCTL_CREATE_EXT => create_ext(arg),
            IOCTL_ATTACH => attach(arg),
            IOCTL_REMOVE => remove(arg),
            _ => Err(ENOTTY),
        }
    }
}
