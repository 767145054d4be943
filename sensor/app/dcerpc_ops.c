/*
 * The DCE-RPC interfaces and operations the detector knows by name. Interface UUIDs and
 * operation numbers are those of Microsoft's open specifications (MS-DRSR, MS-SCMR, MS-TSCH,
 * MS-RRP, MS-SAMR, MS-LSAD, MS-NRPC, MS-SRVS, MS-WKST, MS-RPCE, MS-EFSR, MS-RPRN, MS-PAR,
 * MS-DCOM, MS-WMI, MS-EVEN, MS-OAUT); names are the specifications' without their IDL_/R/Netr
 * prefixes where Zeek drops them too. Only operations worth an alert are listed: a flow keeps one
 * bit per entry, so the table holds at most DCERPC_MAX_OPS.
 */
#include <string.h>

#include "mimamori/dcerpc.h"

struct uuid {
    uint32_t a;
    uint16_t b, c;
    uint8_t d[8];
};

static const struct iface {
    const char *name;
    struct uuid id;
} ifaces[] = {
    {"drsuapi", {0xe3514235, 0x4b06, 0x11d1, {0xab, 0x04, 0x00, 0xc0, 0x4f, 0xc2, 0xdc, 0xd2}}},
    {"svcctl", {0x367abb81, 0x9844, 0x35f1, {0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10, 0x03}}},
    {"atsvc", {0x1ff70682, 0x0a51, 0x30e8, {0x07, 0x6d, 0x74, 0x0b, 0xe8, 0xce, 0xe9, 0x8b}}},
    {"taskschedulerservice",
     {0x86d35949, 0x83c9, 0x4044, {0xb4, 0x24, 0xdb, 0x36, 0x32, 0x31, 0xfd, 0x0c}}},
    {"winreg", {0x338cd001, 0x2244, 0x31f1, {0xaa, 0xaa, 0x90, 0x00, 0x38, 0x00, 0x10, 0x03}}},
    {"samr", {0x12345778, 0x1234, 0xabcd, {0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xac}}},
    {"lsarpc", {0x12345778, 0x1234, 0xabcd, {0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}}},
    {"netlogon", {0x12345678, 0x1234, 0xabcd, {0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0xcf, 0xfb}}},
    {"srvsvc", {0x4b324fc8, 0x1670, 0x01d3, {0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88}}},
    {"wkssvc", {0x6bffd098, 0xa112, 0x3610, {0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a}}},
    {"epm", {0xe1af8308, 0x5d1f, 0x11c9, {0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa}}},
    {"efs", {0xc681d488, 0xd850, 0x11d0, {0x8c, 0x52, 0x00, 0xc0, 0x4f, 0xd9, 0x0f, 0x7e}}},
    {"efs", {0xdf1941c5, 0xfe89, 0x4e79, {0xbf, 0x10, 0x46, 0x36, 0x57, 0xac, 0xf4, 0x4d}}},
    {"spoolss", {0x12345678, 0x1234, 0xabcd, {0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}}},
    {"iremotewinspool",
     {0x76f03f96, 0xcdfd, 0x44fc, {0xa2, 0x2c, 0x64, 0x95, 0x0a, 0x00, 0x12, 0x09}}},
    {"isystemactivator",
     {0x000001a0, 0x0000, 0x0000, {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}}},
    {"iwbemservices",
     {0x9556dc99, 0x828c, 0x11cf, {0xa3, 0x7e, 0x00, 0xaa, 0x00, 0x32, 0x40, 0xc7}}},
    {"eventlog", {0x82273fdc, 0xe32a, 0x18c3, {0x3f, 0x78, 0x82, 0x79, 0x29, 0xdc, 0x23, 0xea}}},
    {"dispatch", {0x00020400, 0x0000, 0x0000, {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}}},
    /* Not an interface: how a client authenticated over SMB or DCE-RPC (NTLMSSP, MS-NLMP). */
    {"auth", {0, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0}}},
};

#define NIFACES (sizeof(ifaces) / sizeof(ifaces[0]))

static const struct op {
    const char *name; /* "iface.Operation" */
    uint16_t opnum;
} ops[] = {
    /* Replication asked of a domain controller: DCSync, DCShadow. */
    {"drsuapi.DRSGetNCChanges", 3},
    {"drsuapi.DRSReplicaAdd", 5},
    /* Services created, changed or started on another host: PsExec, smbexec, Impacket. */
    {"svcctl.ChangeServiceConfigW", 11},
    {"svcctl.CreateServiceW", 12},
    {"svcctl.StartServiceW", 19},
    {"svcctl.ChangeServiceConfigA", 23},
    {"svcctl.CreateServiceA", 24},
    {"svcctl.StartServiceA", 31},
    {"svcctl.CreateServiceWOW64A", 44},
    {"svcctl.CreateServiceWOW64W", 45},
    /* Scheduled tasks on another host. */
    {"atsvc.NetrJobAdd", 0},
    {"taskschedulerservice.SchRpcRegisterTask", 1},
    {"taskschedulerservice.SchRpcRun", 12},
    /* Remote registry: writes, and hive dumps (secretsdump). */
    {"winreg.OpenUsers", 4},
    {"winreg.BaseRegCreateKey", 6},
    {"winreg.BaseRegSaveKey", 20},
    {"winreg.BaseRegSetValue", 22},
    {"winreg.BaseRegSaveKeyEx", 31},
    /* Domain and session enumeration (net user /domain, BloodHound, rpcdump). */
    {"samr.SamrEnumerateDomainsInSamServer", 6},
    {"samr.SamrEnumerateGroupsInDomain", 11},
    {"samr.SamrEnumerateUsersInDomain", 13},
    {"samr.SamrEnumerateAliasesInDomain", 15},
    {"samr.SamrGetMembersInGroup", 25},
    {"samr.SamrGetMembersInAlias", 33},
    {"srvsvc.NetrSessionEnum", 12},
    {"wkssvc.NetrWkstaUserEnum", 2},
    {"epm.ept_lookup", 2},
    /* Credentials and accounts changed or read remotely. */
    {"samr.SamrSetInformationUser2", 58},
    {"lsarpc.LsarRetrievePrivateData", 43},
    /* The secure channel's authentication, tried again and again by ZeroLogon. */
    {"netlogon.NetrServerAuthenticate2", 15},
    {"netlogon.NetrServerAuthenticate3", 26},
    /* Authentication coercion (PetitPotam) and printer drivers loaded remotely (PrintNightmare). */
    {"efs.EfsRpcOpenFileRaw", 0},
    {"efs.EfsRpcEncryptFileSrv", 4},
    {"spoolss.RpcAddPrinterDriverEx", 89},
    {"iremotewinspool.RpcAsyncAddPrinterDriver", 39},
    /*
     * Code run through DCOM and WMI: Win32_Process.Create, event subscriptions, and automation
     * objects (Excel, MMC20, ShellWindows) driven through IDispatch.
     */
    {"isystemactivator.RemoteCreateInstance", 4},
    {"iwbemservices.PutInstance", 14},
    {"iwbemservices.ExecMethod", 24},
    {"dispatch.Invoke", 6},
    /* Event logs cleared from another host. */
    {"eventlog.ElfrClearELFW", 0},
    /* NTLMv1 and LAN Manager responses: crackable, and relayable without signing. */
    {"auth.NTLMv1", 0},
    {"auth.LM", 1},
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

_Static_assert(NOPS <= DCERPC_MAX_OPS, "one bit per operation");
_Static_assert(NIFACES < 32, "one bit per interface, and index + 1 in a byte");

/* The index of the interface an operation's name starts with. */
static unsigned op_iface(const struct op *o)
{
    size_t len = strcspn(o->name, ".");
    unsigned i;

    for (i = 0; i < NIFACES; i++)
        if (strlen(ifaces[i].name) == len && memcmp(ifaces[i].name, o->name, len) == 0)
            return i;
    return 0; /* not reached: test_dcerpc checks every name */
}

int dcerpc_iface_lookup_uuid(const uint8_t u[16])
{
    /* u is in the canonical (big-endian) byte order. */
    uint32_t a = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
    uint16_t b = (uint16_t)(u[4] << 8 | u[5]), c = (uint16_t)(u[6] << 8 | u[7]);
    unsigned i;

    for (i = 0; i < NIFACES - 1; i++) /* the last, "auth", is never bound */
        if (ifaces[i].id.a == a && ifaces[i].id.b == b && ifaces[i].id.c == c &&
            memcmp(ifaces[i].id.d, u + 8, 8) == 0)
            return (int)i;
    return MM_ENOTFOUND;
}

const char *dcerpc_iface_name(unsigned iface)
{
    return iface < NIFACES ? ifaces[iface].name : "?";
}

unsigned dcerpc_iface_count(void)
{
    return NIFACES;
}

int dcerpc_op_lookup(const char *name)
{
    unsigned i;

    for (i = 0; i < NOPS; i++)
        if (strcmp(ops[i].name, name) == 0)
            return (int)i;
    return MM_ENOTFOUND;
}

const char *dcerpc_op_name(unsigned op)
{
    return op < NOPS ? ops[op].name : "?";
}

unsigned dcerpc_op_opnum(unsigned op)
{
    return op < NOPS ? ops[op].opnum : 0;
}

unsigned dcerpc_op_iface(unsigned op)
{
    return op < NOPS ? op_iface(&ops[op]) : 0;
}

unsigned dcerpc_op_count(void)
{
    return NOPS;
}

int dcerpc_op_find(unsigned iface, unsigned opnum)
{
    const char *name = dcerpc_iface_name(iface);
    size_t len = strlen(name);
    unsigned i;

    /* Two UUIDs may share a name (efs): the match is on the name. */
    for (i = 0; i < NOPS; i++)
        if (ops[i].opnum == opnum && strncmp(ops[i].name, name, len) == 0 &&
            ops[i].name[len] == '.')
            return (int)i;
    return MM_ENOTFOUND;
}
